package org.pollen.app

import android.content.Context
import android.media.MediaRecorder
import android.os.Build
import android.os.SystemClock
import java.io.File

/**
 * Records a voice note into a file. Behind an interface so that a test can
 * put a fake in (Robolectric's MediaRecorder writes no file); the app's
 * [MediaVoiceRecorder] records AAC in MPEG-4 ([MIME]).
 */
interface VoiceRecorder {
    /** Starts recording into [file]; throws if the microphone cannot be had. */
    fun start(file: File)

    /** Stops; the note's length in milliseconds, or null if nothing usable was recorded (the file is then removed). */
    fun stop(): Long?

    /** Stops and throws the recording away (the app went to the background). */
    fun cancel()

    /** An [android.app.Application] implementing this gives the app its recorder (a test gives a fake). */
    fun interface Provider {
        /** A recorder for [context]. */
        fun voiceRecorder(context: Context): VoiceRecorder
    }

    /** The media type and file name a voice note is sent with. */
    companion object {
        /** AAC in MPEG-4. */
        const val MIME = "audio/mp4"

        /** The name the file is sent under. */
        const val FILE_NAME = "voice-note.m4a"
    }
}

/** The phone's microphone through [MediaRecorder]: AAC in MPEG-4, mono, 32 kbit/s (a minute ≈ 240 kB). */
class MediaVoiceRecorder(private val context: Context) : VoiceRecorder {
    private var recorder: MediaRecorder? = null
    private var file: File? = null
    private var startedAt = 0L

    override fun start(file: File) {
        cancel()
        val r = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) MediaRecorder(context) else @Suppress("DEPRECATION") MediaRecorder()
        try {
            r.setAudioSource(MediaRecorder.AudioSource.MIC)
            r.setOutputFormat(MediaRecorder.OutputFormat.MPEG_4)
            r.setAudioEncoder(MediaRecorder.AudioEncoder.AAC)
            r.setAudioChannels(1)
            r.setAudioSamplingRate(SAMPLE_RATE)
            r.setAudioEncodingBitRate(BIT_RATE)
            r.setOutputFile(file.path)
            r.prepare()
            r.start()
        } catch (e: Exception) {
            r.release()
            file.delete()
            throw e
        }
        recorder = r
        this.file = file
        startedAt = SystemClock.elapsedRealtime()
    }

    override fun stop(): Long? {
        val r = recorder ?: return null
        val out = file
        recorder = null
        file = null
        val length = SystemClock.elapsedRealtime() - startedAt
        // MediaRecorder.stop throws when nothing was recorded (stopped at once).
        val ok = runCatching { r.stop() }.isSuccess
        r.release()
        if (!ok || out == null || !out.exists() || out.length() == 0L) {
            out?.delete()
            return null
        }
        return length
    }

    override fun cancel() {
        val r = recorder ?: return
        recorder = null
        runCatching { r.stop() }
        r.release()
        file?.delete()
        file = null
    }

    private companion object {
        const val SAMPLE_RATE = 44_100
        const val BIT_RATE = 32_000
    }
}
