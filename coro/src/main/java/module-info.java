/**
 * coro: stackful, deterministic coroutines for Java, scheduled cooperatively on the thread that
 * creates them. See {@link dev.coro.Coroutine} for the entry point.
 */
module dev.coro {
    requires jdk.jfr;
    requires java.management;

    exports dev.coro;
    exports dev.coro.net;
    exports dev.coro.management;
}
