/**
 * The fuselab command line: `deno task exp <file>`, `deno task report [file]`.
 *
 * @module
 */

const USAGE = `fuselab — Transformer and multimodal-fusion ablations

usage:
  deno task exp <experiment file> [options]   run every variant × seed (see --help)
  deno task exp status <experiment file>      what is done, running, failed
  deno task report [experiment file|results dir]  rebuild reports from results alone
`;

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  let code = 0;
  switch (command) {
    case "exp": {
      const { main } = await import("./lib/cli/exp.ts");
      code = await main(rest);
      break;
    }
    case "report": {
      const { main } = await import("./lib/cli/report.ts");
      code = await main(rest);
      break;
    }
    default:
      console.error(USAGE);
      code = command ? 2 : 0;
  }
  Deno.exit(code);
}
