/**
 * The help tips in Chromium (issue 24's referee): every "?" opened at 1280 and
 * 390 px shows its tip inside the viewport; Escape hides a tip however it was
 * shown (tap, hover, keyboard focus: WCAG 1.4.13); a hover tip does not take
 * the click meant for the next row's "?".
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { close, launch, open, waitPhase, type Env } from "./browser.js";

let env: Env;
before(async () => { env = await launch(); });
after(() => close(env));

const HASH = "#preset=custom&hidden=30,20&tasks=2&shots=5";
const tipOf = (page: Page, about: string) => page.evaluate((name) => {
  const b = [...document.querySelectorAll(".help button")].find((x) => x.getAttribute("aria-label") === name)!;
  const tip = document.getElementById(b.getAttribute("aria-controls")!)!, r = tip.getBoundingClientRect();
  return { shown: tip.checkVisibility(), left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: tip.textContent };
}, about);

for (const [width, height] of [[1280, 800], [390, 844]] as const) {
  test(`every "?" at ${width}×${height}: its tip is inside the viewport, and Escape hides it`, async () => {
    const { page, errors } = await open(env, HASH, width, height);
    await waitPhase(page, "paused");
    const names = await page.$$eval(".help button", (bs) => bs.filter((b) => (b as HTMLElement).checkVisibility()).map((b) => b.getAttribute("aria-label")!));
    assert.ok(names.length >= 38, `${names.length} "?" buttons`);
    for (const n of ["Play", "Pause", "Step", "Reset", "Run", "Copy", "the presets", "Add a term", "the accuracy chart", "the finding and Σ‖W‖"]) {
      assert.ok(names.includes(`About ${n}`), `a "?" for ${n}`);
    }
    const out: string[] = [];
    for (const name of names) {
      const b = page.getByRole("button", { name, exact: true }).first();
      await b.click();
      const r = await tipOf(page, name);
      assert.ok(r.shown, `${name}: shown`);
      if (r.left < 0 || r.top < 0 || r.right > width || r.bottom > height) out.push(`${name}: [${r.left}, ${r.right}] × [${r.top}, ${r.bottom}]`);
      await page.keyboard.press("Escape");
      assert.equal((await tipOf(page, name)).shown, false, `${name}: Escape hides it`);
      assert.equal(await b.getAttribute("aria-expanded"), "false");
    }
    assert.deepEqual(out, [], `tips outside the ${width}×${height} viewport`);
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test("a tip shown by hover or by keyboard focus is hidden by Escape; a hover tip lets the next row's \"?\" take its click", async () => {
  const { page, errors } = await open(env, HASH);
  await waitPhase(page, "paused");
  const first = page.getByRole("button", { name: "About Hidden widths", exact: true });
  await first.hover();
  assert.ok((await tipOf(page, "About Hidden widths")).shown, "hover shows it");
  await page.keyboard.press("Escape");
  assert.equal((await tipOf(page, "About Hidden widths")).shown, false, "Escape hides it under the pointer");
  // From the field before it, Tab: keyboard focus shows the tip; Escape hides it, focus stays.
  await page.mouse.move(0, 0);
  await page.focus("#hidden");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "About Hidden widths");
  assert.ok((await tipOf(page, "About Hidden widths")).shown, "focus shows it");
  await page.keyboard.press("Escape");
  assert.equal((await tipOf(page, "About Hidden widths")).shown, false, "Escape hides it under the focus");
  // Hover the Hidden widths "?", whose tip hangs over the rows below, then click the next row's "?" where it is.
  await first.hover();
  const next = page.getByRole("button", { name: "About Init", exact: true }), box = (await next.boundingBox())!;
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  assert.equal(await next.getAttribute("aria-expanded"), "true", "the click reached the next \"?\"");
  assert.ok((await tipOf(page, "About Init")).shown);
  assert.deepEqual(errors, []);
  await page.close();
});
