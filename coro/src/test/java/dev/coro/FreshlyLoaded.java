package dev.coro;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;

/**
 * A nested test class loaded anew, by a class loader of its own, each time one of its static fields
 * is read, so that its static initializer runs again on every read: a test of what an initializer
 * does can run any number of times in one JVM (as a mutation run reruns it), not once.
 *
 * <p>Only the named class is defined afresh; everything else (the library, the test's other classes)
 * comes from the test's own loader. The fresh class lives in a runtime package of its own, so it
 * may use only public API: exactly what a user's class does.
 */
final class FreshlyLoaded {

    private FreshlyLoaded() {
    }

    /**
     * Loads a fresh copy of {@code nested}, initializes it on the calling thread, and returns its static
     * field {@code field}.
     *
     * @param nested the class whose initializer is to run, a nested class of a test
     * @param field  the name of one of its static fields
     * @return that field's value after the initializer ran
     * @throws ExceptionInInitializerError if the initializer threw, as when the class is first used
     */
    static Object staticField(Class<?> nested, String field) {
        ClassLoader parent = nested.getClassLoader();
        String name = nested.getName();
        ClassLoader fresh = new ClassLoader("fresh " + nested.getSimpleName(), parent) {
            @Override
            protected Class<?> loadClass(String n, boolean resolve) throws ClassNotFoundException {
                if (!n.equals(name)) {
                    return super.loadClass(n, resolve);
                }
                synchronized (getClassLoadingLock(n)) {
                    Class<?> c = findLoadedClass(n);
                    return c != null ? c : define(n);
                }
            }

            private Class<?> define(String n) throws ClassNotFoundException {
                try (InputStream in = parent.getResourceAsStream(n.replace('.', '/') + ".class")) {
                    if (in == null) {
                        throw new ClassNotFoundException(n);
                    }
                    byte[] bytes = in.readAllBytes();
                    return defineClass(n, bytes, 0, bytes.length);
                } catch (IOException e) {
                    throw new ClassNotFoundException(n, e);
                }
            }
        };
        try {
            Field f = Class.forName(name, true, fresh).getDeclaredField(field);
            f.setAccessible(true);
            return f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot read " + name + "." + field, e);
        }
    }
}
