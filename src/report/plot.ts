import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import * as vl from "vega-lite";
import { writeAtomic } from "../core/files.js";

/** A vega-lite spec (kept loose: it is data handed to the compiler). */
export type VlSpec = Record<string, unknown>;

const FONT = "DejaVu Sans";

function fontFile(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve("dejavu-fonts-ttf/package.json")), "ttf", "DejaVuSans.ttf");
}

/** Render a vega-lite spec to SVG in Node (no browser, no canvas). */
export async function toSvg(spec: VlSpec): Promise<string> {
  // Legends show whole labels (a cut label can hide which series is which).
  const full = { config: { font: FONT, background: "white", legend: { labelLimit: 0 } }, ...spec };
  const compiled = vl.compile(full as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** SVG → PNG with resvg, using the font shipped in node_modules so the bytes do not depend on the machine's fonts. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: false, fontFiles: [fontFile()], defaultFontFamily: FONT, sansSerifFamily: FONT },
    background: "white",
  });
  return new Uint8Array(r.render().asPng());
}

/** Write `base`.svg and `base`.png atomically. */
export async function writeFigure(base: string, spec: VlSpec): Promise<{ svg: string; png: string }> {
  const svg = await toSvg(spec);
  writeAtomic(`${base}.svg`, svg);
  writeAtomic(`${base}.png`, svgToPng(svg));
  return { svg: `${base}.svg`, png: `${base}.png` };
}
