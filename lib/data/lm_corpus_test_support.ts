/**
 * A small language-modelling corpus for tests: a folder of text files, each
 * a few repetitions of one English text after a distinct prefix, so that
 * no two files are the same.
 *
 * @module
 */
import { join } from "node:path";

const TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat.\n";

/**
 * A fresh folder of `n` small text files `doc00.txt …` (file i: `"i "` three
 * times, then the text 6 + i times); returns the folder and the paths.
 */
export async function corpusDir(n: number): Promise<{ dir: string; paths: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "fuselab-lm-" });
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(dir, `doc${String(i).padStart(2, "0")}.txt`);
    await Deno.writeTextFile(p, `${i} `.repeat(3) + TEXT.repeat(6 + i));
    paths.push(p);
  }
  return { dir, paths };
}
