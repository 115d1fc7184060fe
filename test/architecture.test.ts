/**
 * The layering the README's Layout section promises, checked on the source itself: no import cycle among src/'s
 * modules (type-only imports count too, as `madge --circular` counts them: a cycle of types is still a pair of
 * modules that cannot be read one without the other), core imports nothing of the project outside core, and no
 * source file (tests aside) is longer than 500 lines: past that, a file holds more than one idea.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const src = join(root, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && !entry.name.endsWith(".d.ts")
      ? [path]
      : [];
  });
}

/** The project files a module imports (static `import`/`export ... from` and dynamic `import("...")` with a literal). */
function localImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1] as string);
  return specifiers.map((s) => resolve(dirname(file), s.replace(/\.js$/, ".ts")));
}

const files = sourceFiles(src);
const graph = new Map(files.map((f) => [f, localImports(f).filter((to) => to.startsWith(src))]));

function findCycles(): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles.map((cycle) => cycle.map((f) => relative(src, f)));
}

describe("architecture", () => {
  it("reads every module's imports (the check sees the code it guards)", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get(join(src, "server.ts"))?.length).toBeGreaterThan(0);
  });

  it("has no import cycle in src/", () => {
    expect(findCycles()).toEqual([]);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    const a = join(src, "__a.ts");
    const b = join(src, "__b.ts");
    graph.set(a, [b]);
    graph.set(b, [a]);
    files.push(a, b);
    try {
      expect(findCycles()).toEqual([["__a.ts", "__b.ts", "__a.ts"]]);
    } finally {
      graph.delete(a);
      graph.delete(b);
      files.splice(files.indexOf(a), 2);
    }
  });

  it("keeps every source file within 500 lines (tests aside)", () => {
    const long = files
      .map((f) => ({ file: relative(src, f), lines: readFileSync(f, "utf8").split("\n").length - 1 }))
      .filter((f) => f.lines > 500);
    expect(long).toEqual([]);
  });

  it("core imports nothing of the project outside core", () => {
    const core = join(src, "core");
    const outside = files
      .filter((f) => f.startsWith(core))
      .flatMap((f) =>
        localImports(f).flatMap((to) => (to.startsWith(core) ? [] : [`${relative(src, f)} -> ${relative(root, to)}`])),
      );
    expect(outside).toEqual([]);
  });
});
