package dev.coro;

import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Runs each test method, and each invocation of a repeated or parameterized one, on a new platform
 * thread, so it starts with a fresh scheduler (every thread has its own run list). Failures of the
 * test thread are rethrown to JUnit unchanged.
 */
public final class FreshThread implements InvocationInterceptor {

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> call,
                                    ExtensionContext context) throws Throwable {
        onAThreadOfItsOwn(invocation, call);
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> call,
                                            ExtensionContext context) throws Throwable {
        onAThreadOfItsOwn(invocation, call);
    }

    private static void onAThreadOfItsOwn(Invocation<Void> invocation, ReflectiveInvocationContext<Method> call)
            throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                invocation.proceed();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "test-" + call.getExecutable().getName());
        t.start();
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }
}
