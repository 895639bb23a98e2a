package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * Java code run inside an FFM upcall, where the JDK cannot suspend a continuation: libc's {@code qsort}
 * calling back a Java comparator that runs the code, for the tests of what coro refuses there (or, on the
 * thread engine, does pinned). Nothing may escape an upcall (the JVM would exit), so the comparator keeps
 * what the code returned or threw, and the caller gets it once {@code qsort} has returned.
 */
public final class Upcalls {

    /** Code run in an upcall, which may throw anything. */
    @FunctionalInterface
    public interface Body {
        /**
         * Runs in the upcall.
         *
         * @return what the caller is handed; null for nothing
         * @throws Throwable kept, and handed to the caller in place of a value
         */
        Object call() throws Throwable;
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle QSORT = LINKER.downcallHandle(LINKER.defaultLookup().find("qsort").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final FunctionDescriptor COMPARATOR = FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT), ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT));
    private static final MethodHandle COMPARE;

    static {
        try {
            COMPARE = MethodHandles.lookup().findStatic(Upcalls.class, "compare",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What the comparator runs, set by the sort of the calling thread. */
    private static final ThreadLocal<Body> BODY = new ThreadLocal<>();
    /** Where the comparator adds what each run returned or threw, set by the sort of the calling thread. */
    private static final ThreadLocal<List<Object>> OUTCOMES = new ThreadLocal<>();

    private Upcalls() {
    }

    static int compare(MemorySegment a, MemorySegment b) {
        Object outcome;
        try {
            outcome = BODY.get().call();
        } catch (Throwable e) {
            outcome = e;
        }
        OUTCOMES.get().add(outcome);
        return Integer.compare(a.get(ValueLayout.JAVA_INT, 0), b.get(ValueLayout.JAVA_INT, 0));
    }

    /**
     * Sorts {@code values} with libc's {@code qsort}, running {@code body} inside every comparator upcall
     * (once per comparison), and adds what each run returned or threw to {@code outcomes}, in order.
     *
     * @param body     what each upcall runs
     * @param outcomes where what each run returned (null for nothing) or threw is added
     * @param values   the values to sort
     * @return the values sorted
     */
    public static int[] sortCallingBack(Body body, List<Object> outcomes, int... values) {
        Body outerBody = BODY.get();
        List<Object> outerOutcomes = OUTCOMES.get();
        BODY.set(body);
        OUTCOMES.set(outcomes);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment array = arena.allocateFrom(ValueLayout.JAVA_INT, values);
            QSORT.invokeExact(array, (long) values.length, 4L, LINKER.upcallStub(COMPARE, COMPARATOR, arena));
            return array.toArray(ValueLayout.JAVA_INT);
        } catch (Throwable e) {
            throw new AssertionError(e);
        } finally {
            BODY.set(outerBody); // a body may sort in turn
            OUTCOMES.set(outerOutcomes);
        }
    }

    /**
     * What {@code body} returns or throws inside the one comparator upcall of a {@code qsort} of two values.
     *
     * @param body what the upcall runs
     * @return what it returned (null for nothing) or threw
     */
    public static Object inAnUpcall(Body body) {
        List<Object> outcomes = new ArrayList<>();
        sortCallingBack(body, outcomes, 2, 1);
        assertThat(outcomes).as("what the one upcall of a sort of two values gave").hasSize(1);
        return outcomes.get(0);
    }
}
