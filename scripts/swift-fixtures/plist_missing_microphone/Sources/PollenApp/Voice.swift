import AVFoundation

func record(to url: URL) throws -> AVAudioRecorder {
    let recorder = try AVAudioRecorder(url: url, settings: [AVFormatIDKey: kAudioFormatMPEG4AAC])
    recorder.record()
    return recorder
}
