package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.reflect.AccessFlag;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The module the jar is, read from its compiled {@code module-info.class}: what it exports, and that a
 * module that {@code requires dev.coro} reads every module whose types the exported API names, as the
 * JDK's own modules do ({@code requires transitive}), so that it can call that API without more.
 */
class ModuleTest {

    /** The directory the library's classes are compiled to. */
    private static final Path CLASSES = classes();

    @Test
    @Timeout(60)
    void theModuleExportsItsPublicPackagesToEveryModuleAndNoneOfItsMachinery() throws IOException {
        ModuleDescriptor d = descriptor();
        assertThat(d.name()).isEqualTo("dev.coro");
        assertThat(d.exports()).allSatisfy(e -> assertThat(e.isQualified()).as("export of %s", e.source()).isFalse());
        assertThat(d.exports().stream().map(ModuleDescriptor.Exports::source))
                .containsExactlyInAnyOrder("dev.coro", "dev.coro.net", "dev.coro.management");
        assertThat(CLASSES.resolve("dev/coro/internal")).as("the bridges' package, not exported").isDirectory();
        assertThat(d.opens()).isEmpty();
        assertThat(d.isOpen()).isFalse();
    }

    @Test
    @Timeout(60)
    void everyModuleWhoseTypesTheExportedApiNamesIsRequiredTransitively() throws Exception {
        ModuleDescriptor d = descriptor();
        Set<String> transitive = d.requires().stream()
                .filter(r -> r.modifiers().contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE))
                .map(ModuleDescriptor.Requires::name)
                .collect(Collectors.toSet());
        // module -> the API that names one of its types, e.g. dev.coro.management.CoroutinesManagement.register() javax.management.ObjectName
        Map<String, Set<String>> missing = new TreeMap<>();
        for (ModuleDescriptor.Exports e : d.exports()) {
            for (Class<?> c : publicClasses(e.source())) {
                for (Map.Entry<String, Class<?>> use : namedTypes(c).entrySet()) {
                    Module m = use.getValue().getModule();
                    if (m.isNamed() && !m.getName().equals("java.base") && !transitive.contains(m.getName())) {
                        missing.computeIfAbsent(m.getName(), k -> new TreeSet<>())
                                .add(use.getKey());
                    }
                }
            }
        }
        assertThat(missing).as("modules the exported API names that a module requiring dev.coro does not read").isEmpty();
    }

    private static ModuleDescriptor descriptor() throws IOException {
        try (InputStream in = Files.newInputStream(CLASSES.resolve("module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    private static Path classes() {
        try {
            return Path.of(Coroutine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** The public classes of {@code pkg} (nested ones too) whose enclosing classes are public. */
    private static List<Class<?>> publicClasses(String pkg) throws IOException, ClassNotFoundException {
        List<Class<?>> found = new ArrayList<>();
        Path dir = CLASSES.resolve(pkg.replace('.', '/'));
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".class")).sorted().toList();
        }
        for (Path p : files) {
            String file = p.getFileName().toString();
            if (file.equals("package-info.class")) {
                continue;
            }
            // read from the class files, not loaded: a class of the continuation engine (none of them
            // public) cannot even be defined in a JVM run without the exports flag, which CI runs too
            String outer = file.contains("$") ? file.substring(0, file.indexOf('$')) + ".class" : file;
            if (!declaredPublic(dir.resolve(outer)) || !declaredPublic(p)) {
                continue;
            }
            Class<?> c = Class.forName(pkg + "." + file.substring(0, file.length() - ".class".length()), false,
                    ModuleTest.class.getClassLoader());
            boolean visible = true;
            for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
                visible &= Modifier.isPublic(k.getModifiers());
            }
            if (visible && !c.isAnonymousClass() && !c.isLocalClass()) {
                found.add(c);
            }
        }
        return found;
    }

    /** Whether the class file {@code p} declares its class public, read from its bytes without loading it. */
    private static boolean declaredPublic(Path p) throws IOException {
        return ClassFile.of().parse(Files.readAllBytes(p)).flags().has(AccessFlag.PUBLIC);
    }

    /** The types {@code c}'s public and protected API names, each keyed by where it names it and its name. */
    private static Map<String, Class<?>> namedTypes(Class<?> c) {
        Map<String, Class<?>> uses = new TreeMap<>();
        String name = c.getName();
        if (c.getGenericSuperclass() != null) {
            collect(c.getGenericSuperclass(), name + " extends", uses, new HashSet<>());
        }
        for (Type t : c.getGenericInterfaces()) {
            collect(t, name + " implements", uses, new HashSet<>());
        }
        for (Field f : c.getDeclaredFields()) {
            if (visible(f.getModifiers()) && !f.isSynthetic()) {
                collect(f.getGenericType(), name + "." + f.getName(), uses, new HashSet<>());
            }
        }
        List<Executable> members = new ArrayList<>(List.of(c.getDeclaredMethods()));
        members.addAll(List.<Constructor<?>>of(c.getDeclaredConstructors()));
        for (Executable m : members) {
            if (!visible(m.getModifiers()) || m.isSynthetic() || (m instanceof Method x && x.isBridge())) {
                continue;
            }
            String where = name + "." + m.getName() + "()";
            if (m instanceof Method x) {
                collect(x.getGenericReturnType(), where, uses, new HashSet<>());
            }
            for (Type t : m.getGenericParameterTypes()) {
                collect(t, where, uses, new HashSet<>());
            }
            for (Type t : m.getGenericExceptionTypes()) {
                collect(t, where, uses, new HashSet<>());
            }
        }
        return uses;
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    /** Every class {@code t} names, through arrays, type arguments and bounds. */
    private static void collect(Type t, String where, Map<String, Class<?>> uses, Set<Type> seen) {
        if (!seen.add(t)) {
            return;
        }
        switch (t) {
            case Class<?> c when c.isArray() -> collect(c.getComponentType(), where, uses, seen);
            case Class<?> c when !c.isPrimitive() -> uses.putIfAbsent(where + " " + c.getName(), c);
            case ParameterizedType p -> {
                collect(p.getRawType(), where, uses, seen);
                for (Type a : p.getActualTypeArguments()) {
                    collect(a, where, uses, seen);
                }
            }
            case GenericArrayType a -> collect(a.getGenericComponentType(), where, uses, seen);
            case WildcardType w -> {
                for (Type b : w.getUpperBounds()) {
                    collect(b, where, uses, seen);
                }
                for (Type b : w.getLowerBounds()) {
                    collect(b, where, uses, seen);
                }
            }
            case TypeVariable<?> v -> {
                for (Type b : v.getBounds()) {
                    collect(b, where, uses, seen);
                }
            }
            default -> {
                // a primitive type
            }
        }
    }
}
