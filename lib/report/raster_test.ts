import assert from "node:assert/strict";
import { Resvg } from "@resvg/resvg-wasm";
import { crc32, encodePng, matrixDataUri, parseColor } from "./raster.ts";
import { svgToPng } from "./png.ts";

Deno.test("crc32 check value and colour parsing", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.deepEqual(parseColor("#0a1B2c"), [10, 27, 44]);
  assert.deepEqual(parseColor("#f00"), [255, 0, 0]);
  assert.deepEqual(parseColor("rgb(5, 48, 97)"), [5, 48, 97]);
  assert.throws(() => encodePng(2, 2, new Uint8Array(11)), /12|11 bytes/);
});

Deno.test("a matrix image decodes to its cells, scaled without smoothing", async () => {
  // any render first initialises resvg's wasm (shared with the import above)
  assert.ok(await svgToPng(`<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>`));
  const colors = ["#ff0000", "#00ff00", "#0000ff", "#ffffff", "#000000", "#808080"];
  const uri = matrixDataUri([[0, 1, 2], [3, 4, 5]], (v) => colors[v]);
  assert.match(uri, /^data:image\/png;base64,iVBORw0KGgo/);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20">` +
    `<image width="30" height="20" preserveAspectRatio="none" image-rendering="optimizeSpeed" ` +
    `href="${uri}"/></svg>`;
  const img = new Resvg(svg).render();
  const px = (
    x: number,
    y: number,
  ) => [...img.pixels.slice((y * 30 + x) * 4, (y * 30 + x) * 4 + 3)];
  // each cell is a 10 × 10 block; sample near block edges to catch smoothing
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 3; c++) {
      const want = parseColor(colors[r * 3 + c]);
      for (const [dx, dy] of [[1, 1], [8, 8]]) {
        assert.deepEqual(px(c * 10 + dx, r * 10 + dy), want, `cell ${r},${c}`);
      }
    }
  }
  // a large matrix spans several stored deflate blocks (65535 bytes each)
  const big = Array.from(
    { length: 200 },
    (_, i) => Array.from({ length: 200 }, (_, j) => (i + j) % 6),
  );
  const bigUri = matrixDataUri(big, (v) => colors[v]);
  const bigSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200">` +
    `<image width="200" height="200" href="${bigUri}"/></svg>`;
  const bigImg = new Resvg(bigSvg).render();
  const at = (
    x: number,
    y: number,
  ) => [...bigImg.pixels.slice((y * 200 + x) * 4, (y * 200 + x) * 4 + 3)];
  assert.deepEqual(at(199, 199), parseColor(colors[(199 + 199) % 6]));
  assert.deepEqual(at(7, 150), parseColor(colors[(7 + 150) % 6]));
});
