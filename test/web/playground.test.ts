/**
 * The app as a playground, in Chromium: each defect found by using it as a
 * first-time user would is a regression test here (a restart racing the
 * previous run, stopping a network too large to finish a task, the CLI box
 * against the run on screen, an error out of view), and so are Play / Pause /
 * Step / Reset (which must not change a single number) and the live network
 * diagram.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { accs, assertMatchesCli, close, done, launch, open, phase, playToEnd, tasksShown, waitPhase, type Env } from "./browser.js";

let env: Env;
before(async () => { env = await launch(); });
after(() => close(env));

const button = (page: import("playwright-core").Page, name: string) => page.getByRole("button", { name, exact: true });

test("restart race: the Online preset clicked while a run trains ends at N / N with the CLI's numbers", async () => {
  const { page, errors } = await open(env, "");
  await waitPhase(page, "paused");
  assert.deepEqual(await tasksShown(page), ["1 / 100 tasks", "1 / 100 tasks"], "opens held after the first task");
  await button(page, "Play").click();
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#run-a .acc")!.dataset.tasks) >= 5);
  await page.click("#presets button[data-preset=online]");
  await done(page, 240);
  assert.deepEqual(await tasksShown(page), ["100 / 100 tasks", "100 / 100 tasks"]);
  await assertMatchesCli(page);
  assert.match((await page.textContent("#finding"))!, /^This run found: B beats A by \d+\.\d ± \d+\.\d points, paired over 100 tasks/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("stop on a large network: a 4096-wide run that has not finished a task is left at once, and the next run starts and finishes", async () => {
  const { page, errors } = await open(env, "#preset=custom&hidden=4096,4096,4096&tasks=2");
  await waitPhase(page, "paused");
  assert.deepEqual(await tasksShown(page), ["0 / 2 tasks", "0 / 2 tasks"], "a link to a long run opens without training");
  assert.match((await page.textContent("#estimate"))!, /per task/, "the time per task is estimated before it runs");
  await button(page, "Play").click();
  // Alive inside its first task: it says it is setting up, then counts examples.
  await page.waitForFunction(() => /task 1: /.test(document.querySelector("#run-a .within")!.textContent ?? ""), null, { timeout: 60000 });
  await button(page, "Reset").click();
  await page.fill("#hidden", "30,20");
  await page.fill("#tasks", "4");
  await page.fill("#shots", "10");
  const t0 = Date.now();
  await page.click("#run");
  await done(page, 60);
  assert.ok(Date.now() - t0 < 30000, `the new run took ${Date.now() - t0} ms`);
  assert.deepEqual(await tasksShown(page), ["4 / 4 tasks", "4 / 4 tasks"]);
  await assertMatchesCli(page);
  assert.deepEqual(errors, []);
  await page.close();
});

/** Every text `sel` takes from now on (a MutationObserver in the page): states shorter than a poll are caught too. */
async function recordTexts(page: import("playwright-core").Page, sel: string): Promise<() => Promise<string[]>> {
  await page.evaluate((s) => {
    const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
    for (const el of document.querySelectorAll(s)) new MutationObserver(() => seen.push(el.textContent ?? "")).observe(el, { childList: true, characterData: true, subtree: true });
  }, sel);
  return () => page.evaluate(() => (window as unknown as { seen: string[] }).seen);
}

// Issue 24's referee: a 4096-wide network sat at "240 / 250 examples" for minutes while its end-of-task probe (≈ 157 s) ran.
test("the end of a large network's task: its last step is shown, the probe is announced and kept within seconds, or skipped with a note", async () => {
  {
    // Too large to probe at all (the probe alone would take minutes): skipped, and said so; its one task ends in seconds.
    const { page, errors } = await open(env, "#preset=custom&hidden=4096,4096,4096&shots=1&tasks=2");
    // Its first task is quick without the probe: the page runs it on opening. Reset, to watch it from its first step.
    await waitPhase(page, "paused", 120);
    await button(page, "Reset").click();
    await waitPhase(page, "paused");
    assert.match((await page.textContent("#diag-note"))!, /^Diagnostics skipped for a network this large: one probe would take ≈ \d+ min/);
    const texts = await recordTexts(page, ".run .within");
    await button(page, "Play").click();
    await done(page, 120);
    // Task 1's end (neither the last task nor one held on): its last step was not shown before, only the throttled ones.
    assert.ok((await texts()).includes("task 1: 5 / 5 examples"), `the last step shown: ${await texts()}`);
    assert.ok(!(await texts()).some((t) => /measuring/.test(t)), "nothing measured");
    await assertMatchesCli(page);
    assert.deepEqual(errors, []);
    await page.close();
  }
  {
    // Probed on fewer images (a second or two rather than more than the budget): announced while it runs.
    const { page, errors } = await open(env, "#preset=custom&hidden=1024,1024&shots=1&tasks=2");
    await waitPhase(page, "paused");
    await button(page, "Reset").click();
    await waitPhase(page, "paused");
    assert.deepEqual(await tasksShown(page), ["0 / 2 tasks", "0 / 2 tasks"]);
    const note = (await page.textContent("#diag-note"))!, m = /^Diagnostics on (\d+) of the 100 probe images/.exec(note);
    assert.ok(m, note);
    const texts = await recordTexts(page, "#run-a .within");
    await button(page, "Play").click();
    await done(page, 120);
    const seen = await texts();
    // Its scoring is quicker than a redraw (250 ms), so its last step may be drawn over by the probe's announcement.
    const measuring = [1, 2].map((t) => seen.findIndex((x) => x.startsWith(`task ${t}: measuring diagnostics (${m[1]} probe images, ≈ `)));
    assert.ok(measuring[0] >= 0 && measuring[1] > measuring[0], `each task's probe announced while it runs: ${seen.join(" | ")}`);
    assert.equal(await page.$eval("#run-a .rate", (e) => JSON.parse((e as HTMLElement).dataset.busy!).diagnostics > 0), true, "the probe ran");
    await assertMatchesCli(page);
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test("the CLI box is the run on screen's; a changed form is said to differ, next to the box", async () => {
  const { page, errors } = await open(env, "#preset=custom&hidden=30,20&tasks=3&shots=10&seed=4");
  await playToEnd(page);
  const command = (await page.textContent("#cli"))!, hash = new URL(page.url()).hash;
  assert.equal(await page.isVisible("#cli-note"), false);
  await page.fill("#tasks", "7");
  await page.fill("#seed", "11");
  assert.equal(await page.textContent("#cli"), command, "the command is still the run on screen's");
  assert.equal(new URL(page.url()).hash, hash);
  assert.ok(await page.isVisible("#cli-note"));
  assert.match((await page.textContent("#cli-note"))!, /differs from the run on screen/);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.click("#copy");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), command, "Copy gives the run on screen's command");
  await assertMatchesCli(page);
  // Back to the run's values: no difference.
  await page.fill("#tasks", "3");
  await page.fill("#seed", "4");
  assert.equal(await page.isVisible("#cli-note"), false);
  assert.deepEqual(errors, []);
  await page.close();
});

for (const [width, height] of [[1280, 800], [390, 844]] as const) {
  test(`an invalid field at ${width}×${height}: the error is in the viewport, beside the field and the Run control, with aria-invalid`, async () => {
    const { page, errors } = await open(env, "#preset=custom&hidden=30,20&tasks=2&shots=5", width, height);
    await waitPhase(page, "paused");
    await page.fill("#hidden", "30,,x");
    await page.click("#run");
    const inView = (sel: string) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; });
    assert.equal(await page.getAttribute("#hidden", "aria-invalid"), "true");
    assert.ok(await inView("#bar-errors .msg.error"), "beside Run");
    assert.ok(await inView("#err-hidden"), "beside the field");
    assert.ok(await inView("#run"));
    assert.match((await page.getAttribute("#hidden", "aria-describedby"))!, /err-hidden/);
    assert.match((await page.textContent("#err-hidden"))!, /Hidden widths must be whole numbers/);
    await page.fill("#hidden", "30,20");
    await page.click("#run");
    await done(page);
    assert.equal(await page.getAttribute("#hidden", "aria-invalid"), null, "cleared by a valid run");
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test("Play / Pause / Step / Reset: sticky at every width; Step is one more task; Pause holds inside a task; none of them changes a number", async () => {
  for (const width of [1280, 390]) {
    const { page } = await open(env, "#preset=online", width);
    await waitPhase(page, "paused");
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    for (const name of ["Play", "Pause", "Step", "Reset"]) {
      const box = (await button(page, name).boundingBox())!;
      assert.ok(box && box.y >= 0 && box.y + box.height <= (page.viewportSize()!.height), `${name} in view at the bottom of the page, ${width} px`);
    }
    await page.close();
  }
  // 2,000-example tasks (400 shots): long enough that progress inside a task is shown on a fast core; 20 tasks leave
  // room for a few Pauses.
  const { page, errors } = await open(env, "#preset=custom&hidden=300,200&shots=400&tasks=20&seed=5");
  await waitPhase(page, "paused");
  assert.deepEqual(await tasksShown(page), ["1 / 20 tasks", "1 / 20 tasks"]);
  await button(page, "Step").click();
  await waitPhase(page, "paused");
  assert.deepEqual(await tasksShown(page), ["2 / 20 tasks", "2 / 20 tasks"], "Step: exactly one more task of both rules");
  // Pause inside a task. The worker shows the step it holds on (web/src/worker.ts) and the page says where it holds
  // (.within's data-held, "task:done" from the worker's "held" message). A Pause read between two tasks (a fast
  // core's task is a few hundred ms) holds there and shows the last step of the task before, 2000 / 2000. So: wait
  // for any message inside a task after Step's, Pause, and if neither run holds inside a task, Play and try again
  // (each try spends at least a task; 18 are left).
  const heldAt = () => page.$$eval(".run .within", (els) => els.map((e) => (e as HTMLElement).dataset.held ?? ""));
  let within: (string | null)[] = [], held: (string | undefined)[] = [], where: string[] = [];
  for (let attempt = 1; ; attempt++) {
    await button(page, "Play").click();
    await page.waitForFunction(() => {
      const m = /task (\d+): ([1-9]\d*) \/ (\d+)/.exec(document.querySelector("#run-a .within")!.textContent ?? "");
      return m !== null && Number(m[1]) >= 3 && Number(m[2]) < Number(m[3]);
    });
    await button(page, "Pause").click();
    await waitPhase(page, "paused");
    within = await page.$$eval(".run .within", (els) => els.map((e) => e.textContent));
    held = await page.$$eval(".run .acc", (els) => els.map((e) => (e as HTMLElement).dataset.tasks));
    where = await heldAt();
    if (where.some((h) => Number(h.split(":")[1]) > 0)) break;
    assert.ok(attempt < 6 && Number(held[0]) < 16, `${attempt} Pauses, none inside a task: ${within} (held at ${where}, tasks done ${held})`);
  }
  // Each run shows where it holds (not an older message): inside task k, its step; between tasks, task k − 1's last.
  for (const [r, h] of where.entries()) {
    const [k, d] = h.split(":").map(Number);
    assert.equal(within[r], d > 0 ? `task ${k}: ${d} / 2000 examples` : `task ${k - 1}: 2000 / 2000 examples`, `run ${r} held at ${h}`);
    assert.equal(Number(held[r]), k - 1, `run ${r} held at ${h} after ${held[r]} tasks`);
  }
  await page.waitForTimeout(1500);
  assert.deepEqual(await page.$$eval(".run .within", (els) => els.map((e) => e.textContent)), within, "held: nothing moves");
  assert.deepEqual(await page.$$eval(".run .acc", (els) => els.map((e) => (e as HTMLElement).dataset.tasks)), held);
  assert.deepEqual(await heldAt(), where, "held: the same place");
  await button(page, "Play").click();
  await done(page);
  await assertMatchesCli(page);
  const finished = await accs(page);
  await button(page, "Reset").click();
  await waitPhase(page, "paused");
  assert.deepEqual(await tasksShown(page), ["0 / 20 tasks", "0 / 20 tasks"], "Reset: fresh weights, nothing trained");
  await button(page, "Play").click();
  await done(page);
  assert.deepEqual(await accs(page), finished, "the same run again gives the same numbers");
  assert.equal(await phase(page), "done");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the network diagram is drawn and changes as the network learns; the example, its answers and the query digits are shown", async () => {
  const { page, errors } = await open(env, "#preset=custom&hidden=300,200&shots=100&tasks=8&seed=2");
  await waitPhase(page, "paused");
  const norms = new Set<string>();
  norms.add((await page.getAttribute("#run-b .diagram", "data-norms"))!);
  // Two Steps first (one task each, then paused): on a fast core the whole run can end between two 100 ms polls of
  // Play (a fresh-clone run of .ci/run saw only the first and last values), so the in-between values are taken where they hold still.
  let shown = await tasksShown(page);
  for (let k = 1; k <= 2; k++) {
    await button(page, "Step").click();
    await waitPhase(page, "paused");
    const now = await tasksShown(page);
    assert.notDeepEqual(now, shown, "Step trained a task");
    shown = now;
    norms.add((await page.getAttribute("#run-b .diagram", "data-norms"))!);
  }
  await button(page, "Play").click();
  while ((await phase(page)) !== "done") {
    norms.add((await page.getAttribute("#run-b .diagram", "data-norms"))!);
    await page.waitForTimeout(100);
  }
  const values = [...norms].filter(Boolean);
  assert.ok(values.length >= 3, `the diagram's weight norms took ${values.length} values: ${values.join(" | ")}`);
  for (const v of values) assert.equal(v.split(",").length, 3, "‖W‖ of each of the 3 layers");
  // Drawn: the canvas holds more than a blank.
  const inked = await page.$eval("#run-b .diagram", (c) => {
    const g = (c as HTMLCanvasElement).getContext("2d")!, d = g.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(inked > 2000, `${inked} pixels drawn`);
  assert.match((await page.textContent("#run-a .answer"))!, /^Example \d+ of task \d+: a \d; A answers \d/);
  assert.equal(await page.locator("#queries figure").count(), 8);
  assert.match((await page.textContent("#queries"))!, /A: \d [✓✗]/);
  assert.match((await page.textContent("#run-a .scale"))!, /max/, "receptive fields have a colour scale");
  assert.deepEqual(errors, []);
  await page.close();
});
