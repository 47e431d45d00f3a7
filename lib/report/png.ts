/**
 * SVG → PNG for papers, with resvg (WebAssembly). resvg sees no system
 * fonts, so a TrueType font is loaded from disk: `FUSELAB_FONT` when set,
 * else DejaVu Sans or Liberation Sans where Debian installs them. Without a
 * font, PNGs are written without text and a warning says how to fix it.
 *
 * @module
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import { PIXELATED } from "./charts.ts";

/** Font files tried in order (after `FUSELAB_FONT`). */
export const FONT_CANDIDATES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/TTF/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
  "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
  "/Library/Fonts/Arial.ttf",
  "C:/Windows/Fonts/arial.ttf",
];

const WASM = "node_modules/@resvg/resvg-wasm/index_bg.wasm";

interface Renderer {
  fonts: Uint8Array[];
  family?: string;
}

let ready: Promise<Renderer | undefined> | undefined;
const warned = new Set<string>();

function warn(msg: string) {
  if (warned.has(msg)) return;
  warned.add(msg);
  console.warn(`report: ${msg}`);
}

async function tryRead(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch {
    return undefined;
  }
}

/** Finds resvg's wasm file: walking up from this module and from the working directory. */
async function findWasm(): Promise<Uint8Array | undefined> {
  const starts: string[] = [Deno.cwd()];
  if (import.meta.url.startsWith("file:")) {
    starts.unshift(decodeURIComponent(new URL(".", import.meta.url).pathname));
  }
  for (const start of starts) {
    let dir = start.replace(/\/+$/, "");
    while (true) {
      for (
        const rel of [WASM, "node_modules/.deno/@resvg+resvg-wasm@2.6.2/" + WASM]
      ) {
        const bytes = await tryRead(`${dir}/${rel}`);
        if (bytes) return bytes;
      }
      const up = dir.replace(/\/[^/]*$/, "");
      if (up === dir || !up) break;
      dir = up;
    }
  }
  return undefined;
}

async function init(): Promise<Renderer | undefined> {
  const wasm = await findWasm();
  if (!wasm) {
    warn(`PNG export skipped: ${WASM} not found; run \`deno install\` in the project.`);
    return undefined;
  }
  await initWasm(wasm);
  let env: string | undefined;
  try {
    env = Deno.env.get("FUSELAB_FONT");
  } catch {
    env = undefined; // no --allow-env: use the defaults
  }
  for (const path of env ? [env, ...FONT_CANDIDATES] : FONT_CANDIDATES) {
    const font = await tryRead(path);
    if (font) return { fonts: [font] };
  }
  warn(
    "no TrueType font found for PNG export (text will be missing from PNGs); install one, " +
      "e.g. `apt-get install fonts-dejavu-core`, or set FUSELAB_FONT=/path/to/font.ttf.",
  );
  return { fonts: [] };
}

/**
 * Renders a standalone SVG to PNG at `scale` × its size, on white.
 * Returns undefined (after one warning) when resvg cannot be loaded.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array | undefined> {
  ready ??= init();
  const r = await ready;
  if (!r) return undefined;
  // see PIXELATED in charts.ts: resvg honours the attribute, not the CSS value
  svg = svg.replaceAll(` ${PIXELATED}`, "");
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: r.fonts.length
      ? { fontBuffers: r.fonts, sansSerifFamily: "", defaultFontFamily: "" }
      : { loadSystemFonts: false },
  });
  try {
    const image = resvg.render();
    const png = image.asPng();
    image.free();
    return png;
  } finally {
    resvg.free();
  }
}
