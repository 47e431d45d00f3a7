import assert from "node:assert/strict";
import { changedSwitches, envSwitch, switches } from "./switches.ts";

Deno.test("envSwitch: 0 off, 1 on, anything else the default; listed, changes reported", () => {
  const names = ["FUSELAB_TEST_SWITCH_A", "FUSELAB_TEST_SWITCH_B", "FUSELAB_TEST_SWITCH_C"];
  Deno.env.set(names[0], "0");
  Deno.env.set(names[1], "yes");
  Deno.env.delete(names[2]);
  try {
    const a = envSwitch(names[0], true);
    const b = envSwitch(names[1], false);
    const c = envSwitch(names[2], true);
    assert.deepEqual([a.on, b.on, c.on], [false, false, true]);
    assert.ok(switches().includes(a) && switches().includes(c));
    assert.ok(changedSwitches().includes(`${names[0]}=0`));
    assert.ok(!changedSwitches().some((s) => s.startsWith(names[1])));
    b.on = true;
    assert.ok(changedSwitches().includes(`${names[1]}=1`));
    Deno.env.set(names[2], "1");
    assert.equal(envSwitch(names[2], false).on, true);
  } finally {
    for (const n of names) Deno.env.delete(n);
  }
});
