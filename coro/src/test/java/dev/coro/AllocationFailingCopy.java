package dev.coro;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeElement;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.NewMultiArrayInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.classfile.instruction.NewPrimitiveArrayInstruction;
import java.lang.classfile.instruction.NewReferenceArrayInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * A copy of the library, loaded anew from its compiled classes, in which every allocation of the library's
 * own code can be made to fail with an {@link OutOfMemoryError}, one at a time ({@link AllocationFailures}):
 * the tests of what an allocation failing at any point of an operation leaves behind. Its code is the
 * library's, with a call to {@link AllocationFailures#allocating()} before each {@code new}, each array made,
 * and each call into the JDK that may allocate (a collection growing, an array copied, a thread-local set): the
 * places where the JVM throws an {@code OutOfMemoryError} when the heap has no room left, found here one after
 * the other where a heap filled by hand would hit one now and then.
 *
 * <p>A scenario is a class of the tests' package whose static method runs in the copy (loaded by the copy's
 * loader, uninstrumented, so that it uses the copy's library, its package-private parts too). Everything
 * else, {@link AllocationFailures} and the JDK included, is shared with the tests.
 */
final class AllocationFailingCopy extends ClassLoader {

    /** The methods of {@code java.util} that may allocate, by name: a collection growing, an array copied. */
    private static final Set<String> ALLOCATING_CALLS = Set.of("add", "addAll", "addFirst", "addLast", "put",
            "putIfAbsent", "computeIfAbsent", "offer", "offerFirst", "offerLast", "push", "copyOf", "copyOfRange");
    private static final ClassDesc SWITCH = ClassDesc.of(AllocationFailures.class.getName());
    private static final MethodTypeDesc NO_ARGS = MethodTypeDesc.of(ConstantDescs.CD_void);

    /** The scenarios' shared helpers, loaded into each copy as the scenario is ({@link InTheCopy}). */
    private static final String HELPERS = "dev.coro.InTheCopy";

    private final Path library;
    private final Class<?> scenario;

    private AllocationFailingCopy(Class<?> scenario) {
        super("allocation-failing copy", AllocationFailingCopy.class.getClassLoader());
        this.library = location(Coroutine.class);
        this.scenario = scenario;
    }

    /**
     * Runs {@code scenario}'s static method {@code method}, of no parameter, in a new copy; what it throws is
     * thrown as it is.
     */
    static void run(Class<?> scenario, String method) throws Throwable {
        AllocationFailingCopy copy = new AllocationFailingCopy(scenario);
        try {
            Method m = Class.forName(scenario.getName(), true, copy).getDeclaredMethod(method);
            m.setAccessible(true);
            m.invoke(null);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        } finally {
            AllocationFailures.stop();
        }
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                c = copied(name);
            }
            if (c == null) {
                return super.loadClass(name, resolve);
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    /** The copy's class {@code name}, defined now; null if it is not the copy's (it is shared). */
    private Class<?> copied(String name) throws ClassNotFoundException {
        String file = name.replace('.', '/') + ".class";
        boolean mine = name.equals(scenario.getName()) || name.startsWith(scenario.getName() + "$")
                || name.equals(HELPERS) || name.startsWith(HELPERS + "$");
        Path path = mine ? location(scenario).resolve(file) : library.resolve(file);
        if (!(mine || name.startsWith("dev.coro.")) || !Files.isRegularFile(path)) {
            return null;
        }
        try {
            byte[] bytes = Files.readAllBytes(path);
            if (!mine) {
                bytes = instrumented(bytes);
            }
            return defineClass(name, bytes, 0, bytes.length);
        } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
        }
    }

    /** The class {@code bytes} with a call to the switch before each allocation. */
    private static byte[] instrumented(byte[] bytes) {
        ClassFile files = ClassFile.of();
        return files.transformClass(files.parse(bytes), ClassTransform.transformingMethodBodies((code, element) -> {
            if (allocates(element)) {
                code.invokestatic(SWITCH, "allocating", NO_ARGS);
            }
            code.with(element);
        }));
    }

    private static boolean allocates(CodeElement e) {
        return switch (e) {
            case NewObjectInstruction n -> true;
            case NewPrimitiveArrayInstruction n -> true;
            case NewReferenceArrayInstruction n -> true;
            case NewMultiArrayInstruction n -> true;
            case InvokeInstruction i -> allocates(i.owner().asInternalName(), i.name().stringValue());
            default -> false;
        };
    }

    /** Whether a call of {@code owner}'s {@code method} may allocate: a collection's or an array's, a thread-local set. */
    private static boolean allocates(String owner, String method) {
        if (owner.equals("java/lang/ThreadLocal")) {
            return method.equals("set");
        }
        return owner.startsWith("java/util/") && !owner.startsWith("java/util/concurrent/atomic/")
                && !owner.startsWith("java/util/concurrent/locks/") && ALLOCATING_CALLS.contains(method);
    }

    private static Path location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
