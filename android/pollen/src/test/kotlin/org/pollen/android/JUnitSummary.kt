package org.pollen.android

import kotlin.system.exitProcess
import org.junit.runner.JUnitCore
import org.junit.runner.notification.Failure

// Runs JUnit test classes without Gradle (CI has no Android Gradle plugin)
// and ends with the `N passed, N failed` line CI looks for.

fun main(args: Array<String>) {
    val classes = args.map { Class.forName(it) }
    val result = JUnitCore().apply {
        addListener(object : org.junit.runner.notification.RunListener() {
            override fun testFinished(description: org.junit.runner.Description) {
                println("done ${description.className}.${description.methodName}")
            }

            override fun testFailure(failure: Failure) {
                println("FAIL ${failure.description.methodName}: ${failure.message}")
                println(failure.trace)
            }
        })
    }.run(*classes.toTypedArray())
    val failed = result.failureCount
    println("${result.runCount - failed} passed, $failed failed")
    exitProcess(if (result.wasSuccessful() && result.runCount > 0) 0 else 1)
}
