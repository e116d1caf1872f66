import type { Scenario } from "./scenario.js";
import { credit } from "./scenarios/credit.js";
import { depth } from "./scenarios/depth.js";
import { discovery } from "./scenarios/discovery.js";
import { feedback } from "./scenarios/feedback.js";
import { init } from "./scenarios/init.js";
import { online } from "./scenarios/online.js";
import { recurrent } from "./scenarios/recurrent.js";
import { scarcity } from "./scenarios/scarcity.js";
import { tricks } from "./scenarios/tricks.js";
import type { ScenarioId } from "./types.js";

/** The paper's comparisons (PAPER.md "Claims"), one module each: the compiler checks that every id has its scenario. */
export const SCENARIOS = { a: online, b: depth, c: init, d: tricks, e: feedback, f: recurrent, g: scarcity, h: credit, i: discovery } satisfies Record<
  ScenarioId,
  Scenario
>;

/** The scenarios in run (and report) order. */
export const SCENARIO_IDS = Object.keys(SCENARIOS) as ScenarioId[];

/** Scenarios a run includes only when asked (`--scenarios`): rule discovery's Taylor episodes cost ~100× a bp + Oja one. */
export const OPT_IN: readonly ScenarioId[] = ["i"];

/** The scenarios a run covers by default. */
export const DEFAULT_SCENARIOS: readonly ScenarioId[] = SCENARIO_IDS.filter((s) => !OPT_IN.includes(s));
