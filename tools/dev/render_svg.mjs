// DOT on stdin, SVG on stdout: Graphviz compiled to WebAssembly (@viz-js/viz, pinned in
// package-lock.json), so drawing the picture needs no system package and no root.
import { instance } from "@viz-js/viz";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const viz = await instance();
const result = viz.render(Buffer.concat(chunks).toString("utf8"), { format: "svg" });
for (const error of result.errors) console.error(`${error.level ?? "error"}: ${error.message}`);
// Graphviz reports a dropped edge or a failed ranking as an error and still draws a picture:
// a picture that silently lacks an edge is worse than none.
if (result.status !== "success" || result.errors.some((error) => error.level === "error")) {
  process.exit(1);
}
process.stdout.write(result.output);
