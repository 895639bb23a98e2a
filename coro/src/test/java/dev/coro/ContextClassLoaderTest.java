package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A body's context class loader: the owner thread's, shared by every context of that thread, on both engines. */
@ExtendWith(FreshThread.class)
class ContextClassLoaderTest {

    private static ClassLoader loader(String name) {
        return new URLClassLoader(name, new URL[0], ContextClassLoaderTest.class.getClassLoader());
    }

    @Test
    void aBodySeesTheContextClassLoaderTheOwnerThreadHasWhenItRuns() {
        ClassLoader first = loader("first");
        ClassLoader second = loader("second");
        Thread.currentThread().setContextClassLoader(first);
        List<ClassLoader> seen = new ArrayList<>();
        Coroutine c = Coroutine.create("body", () -> {
            seen.add(Thread.currentThread().getContextClassLoader());
            Coroutine.yield();
            seen.add(Thread.currentThread().getContextClassLoader());
        });
        c.switchTo();
        Thread.currentThread().setContextClassLoader(second);
        c.switchTo();
        assertThat(seen).containsExactly(first, second);
    }

    @Test
    void aContextClassLoaderSetInABodyIsTheOneMainAndTheOtherContextsSeeAfterIt() {
        ClassLoader set = loader("set");
        List<ClassLoader> seen = new ArrayList<>();
        Coroutine other = Coroutine.create("other", () -> seen.add(Thread.currentThread().getContextClassLoader()));
        Coroutine c = Coroutine.create("sets", () -> {
            Thread.currentThread().setContextClassLoader(set);
            other.switchTo();
        });
        c.switchTo();
        seen.add(Thread.currentThread().getContextClassLoader());
        assertThat(seen).containsExactly(set, set);
    }

    @Test
    void aGeneratorBodySeesItsConsumersContextClassLoaderAndItsConsumerSeesWhatTheBodySet() {
        ClassLoader consumers = loader("consumer's");
        ClassLoader bodys = loader("body's");
        Thread.currentThread().setContextClassLoader(consumers);
        List<ClassLoader> seen = new ArrayList<>();
        try (Generator<ClassLoader> g = Generator.of("loaders", out -> {
            out.emit(Thread.currentThread().getContextClassLoader());
            Thread.currentThread().setContextClassLoader(bodys);
            out.emit(null);
        })) {
            seen.add(g.next());
            g.next();
            seen.add(Thread.currentThread().getContextClassLoader());
        }
        assertThat(seen).containsExactly(consumers, bodys);
    }

    @Test
    void aContextClassLoaderSetAsCloseUnwindsABodyIsTheOneItsCloserSeesAfter() {
        ClassLoader set = loader("set in finally");
        Coroutine c = Coroutine.create("setsInFinally", () -> {
            try {
                Coroutine.yield();
            } finally {
                Thread.currentThread().setContextClassLoader(set);
            }
        });
        c.switchTo();
        c.close();
        assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(set);
    }

    @Test
    void aContextClassLoaderSetAsCloseUnwindsAGeneratorBodyIsTheOneItsConsumerSeesAfter() {
        ClassLoader set = loader("set in finally");
        Generator<Integer> g = Generator.of("setsInFinally", out -> {
            try {
                out.emit(1);
                out.emit(2);
            } finally {
                Thread.currentThread().setContextClassLoader(set);
            }
        });
        assertThat(g.next()).isEqualTo(1);
        g.close();
        assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(set);
    }

    @Test
    void aPoolsBodiesSeeTheContextClassLoaderOfTheThreadThatStartedItNotOneItSetsLater() throws Exception {
        ClassLoader starters = loader("starter's");
        Thread.currentThread().setContextClassLoader(starters);
        List<ClassLoader> seen = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            Thread.currentThread().setContextClassLoader(loader("later"));
            List<java.util.concurrent.CompletableFuture<ClassLoader>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(pool.submit(() -> {
                    Coroutine.yield();
                    return Thread.currentThread().getContextClassLoader();
                }));
            }
            for (var f : fs) {
                seen.add(f.get());
            }
        }
        assertThat(seen).hasSize(4).containsOnly(starters);
    }

    @Test
    void aPoolStartedInABodyGivesItsBodiesTheOwnerThreadsContextClassLoader() throws Exception {
        ClassLoader owners = loader("owner's");
        Thread.currentThread().setContextClassLoader(owners);
        ClassLoader[] seen = new ClassLoader[1];
        Coroutine c = Coroutine.create("starter", () -> {
            try (CoroutinePool pool = CoroutinePool.start(1)) {
                seen[0] = Coroutine.await(pool.submit(() -> Thread.currentThread().getContextClassLoader()));
            }
        });
        c.join();
        assertThat(seen[0]).isSameAs(owners);
    }
}
