package dev.coro;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * A copy of the library loaded anew from its compiled classes by a class loader of its own, whose parent
 * is the platform class loader, as an application server loads a library once per application; the
 * tests drive it through reflection, with bodies of the JDK's own types ({@link Runnable}). Nothing of
 * the copy is shared with the tests' own library: its own schedulers, JMX view, detector and JFR event
 * classes.
 */
final class LibraryCopy {

    /** The copy's class loader. */
    final ClassLoader loader;

    private LibraryCopy(ClassLoader loader) {
        this.loader = loader;
    }

    /**
     * Loads a new copy, in a class loader named {@code name}, from the directory (or jar) the tests' own
     * library was loaded from.
     *
     * @param name the class loader's name
     * @return the copy, none of whose classes is loaded yet
     */
    static LibraryCopy load(String name) {
        URL classes = Coroutine.class.getProtectionDomain().getCodeSource().getLocation();
        return new LibraryCopy(new URLClassLoader(name, new URL[] {classes}, ClassLoader.getPlatformClassLoader()));
    }

    /**
     * Calls the copy's static method {@code method} of {@code type} (a name in {@code dev.coro}, e.g.
     * {@code Coroutine} or {@code management.CoroutinesManagement}); what it throws is thrown as it is.
     *
     * @return what it returned
     */
    Object call(String type, String method, Object... args) {
        try {
            Class<?> c = Class.forName("dev.coro." + type, true, loader);
            return invoke(find(c, method, args.length), null, args);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Calls {@code method} on {@code target}, an object of the copy (a coroutine, a channel); what it
     * throws is thrown as it is.
     *
     * @return what it returned
     */
    static Object on(Object target, String method, Object... args) {
        return invoke(find(target.getClass(), method, args.length), target, args);
    }

    /**
     * A new object of the copy's class {@code type} (a name in {@code dev.coro}, e.g. {@code Channel}), by
     * its public constructor of as many parameters as {@code args}.
     *
     * @return the object
     */
    Object make(String type, Object... args) {
        try {
            Class<?> c = Class.forName("dev.coro." + type, true, loader);
            for (var k : c.getConstructors()) {
                if (k.getParameterCount() == args.length) {
                    return k.newInstance(args);
                }
            }
            throw new AssertionError(c.getName() + " has no public constructor of " + args.length + " parameters");
        } catch (InvocationTargetException e) {
            throw LibraryCopy.<RuntimeException>sneaky(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** A coroutine of the copy, {@code Coroutine.create(name, body)}. */
    Object create(String name, Runnable body) {
        return call("Coroutine", "create", name, body);
    }

    /**
     * A generator of the copy, {@code Generator.of(name, body)}, whose body is {@code body} given the
     * emitter's {@code emit} as a {@link Consumer}.
     */
    Object generator(String name, Consumer<Consumer<Object>> body) {
        try {
            Class<?> type = Class.forName("dev.coro.Generator$Body", true, loader);
            Object proxy = Proxy.newProxyInstance(loader, new Class<?>[] {type}, (self, m, args) -> switch (m.getName()) {
                case "run" -> {
                    Object out = args[0];
                    Method emit = find(Class.forName("dev.coro.Generator$Emitter", true, loader), "emit", 1);
                    body.accept(v -> invoke(emit, out, new Object[] {v}));
                    yield null;
                }
                case "toString" -> "the body of " + name;
                case "hashCode" -> System.identityHashCode(self);
                case "equals" -> self == args[0];
                default -> throw new AssertionError(m);
            });
            return call("Generator", "of", name, proxy);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code Coroutine.yield()} of the copy. */
    void yield() {
        call("Coroutine", "yield");
    }

    /** The public method {@code name} of {@code c} with {@code arity} parameters (the first, if overloaded, that takes a {@code String} first). */
    private static Method find(Class<?> c, String name, int arity) {
        return Arrays.stream(c.getMethods())
                .filter(m -> m.getName().equals(name) && m.getParameterCount() == arity)
                .sorted((a, b) -> Boolean.compare(!startsWithString(a), !startsWithString(b)))
                .findFirst().orElseThrow(() -> new AssertionError(c.getName() + " has no method " + name + " of " + arity + " parameters"));
    }

    private static boolean startsWithString(Method m) {
        return m.getParameterCount() > 0 && m.getParameterTypes()[0] == String.class;
    }

    private static Object invoke(Method m, Object target, Object[] args) {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw LibraryCopy.<RuntimeException>sneaky(e.getCause());
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <X extends Throwable> X sneaky(Throwable t) throws X {
        throw (X) t;
    }
}
