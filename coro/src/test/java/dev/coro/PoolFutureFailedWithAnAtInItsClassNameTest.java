package dev.coro;

import static dev.coro.PoolsClosed.GUARD;
import static dev.coro.PoolsClosed.thrownByClose;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The text of a pool future that failed with an exception whose class name holds an {@code @} (a name the JVM
 * allows, as other languages of the JVM make them): the JDK's state after the pool's words, as for any failure. Its state was once cut at the last {@code @} of the JDK's text, which then fell in the
 * class name, and the {@code toString()} threw.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class PoolFutureFailedWithAnAtInItsClassNameTest {

    /** A new {@code RuntimeException} of a class {@code dev.coro.Odd@Failure}, made for the test. */
    private static RuntimeException oddlyNamed() throws ReflectiveOperationException {
        ClassDesc runtimeException = ClassDesc.of("java.lang.RuntimeException");
        MethodTypeDesc noArguments = MethodTypeDesc.of(ConstantDescs.CD_void);
        byte[] bytes = ClassFile.of().build(ClassDesc.of("dev.coro.Odd@Failure"), c -> c
                .withSuperclass(runtimeException)
                .withFlags(ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL)
                .withMethodBody(ConstantDescs.INIT_NAME, noArguments, ClassFile.ACC_PUBLIC, code -> code
                        .aload(0)
                        .invokespecial(runtimeException, ConstantDescs.INIT_NAME, noArguments)
                        .return_()));
        return (RuntimeException) MethodHandles.lookup().defineClass(bytes).getConstructor().newInstance();
    }

    @Test
    void theTextOfAFutureFailedWithAnExceptionWhoseClassNameHoldsAnAtEndsWithTheJdksState() throws Exception {
        RuntimeException odd = oddlyNamed();
        CoroutinePool pool = CoroutinePool.start(1);
        String name = PoolName.of(pool);
        CompletableFuture<Object> submitted = pool.submit(() -> {
            throw odd;
        });
        CompletableFuture<Object> stage = submitted.thenApply(v -> v);
        Coroutine.withTimeout(GUARD, () -> Coroutine.await(CompletableFuture.allOf(stage).exceptionally(e -> null))); // allOf reads nothing
        assertThat(submitted.toString()).isEqualTo("the future of submit #1 to " + name + "[Completed exceptionally: dev.coro.Odd@Failure]");
        assertThat(stage.toString()).as("the JDK's wrapping of the failure, in the derived stage")
                .isEqualTo("a stage of the future of submit #1 to " + name + "[Completed exceptionally: java.util.concurrent.CompletionException]");
        assertThat(thrownByClose(pool)).hasMessage(name + ": a coroutine failed and nobody observed it: coroutine 'coroutine-1' on thread '"
                + name + "-0' (#" + PoolName.threadId(pool, 0) + "), running the body of submit #1, threw dev.coro.Odd@Failure");
    }
}
