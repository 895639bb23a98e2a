/**
 * coro: stackful, deterministic coroutines for Java, scheduled cooperatively on the thread that
 * creates them. See {@link dev.coro.Coroutine} for the entry point.
 */
module dev.coro {
    requires jdk.jfr;
    // transitive: the exported API names its types (CoroutinesManagement.register() returns an ObjectName)
    requires transitive java.management;

    exports dev.coro;
    exports dev.coro.net;
    exports dev.coro.management;
}
