/**
 * One short explanation per control and metric, shown one hover, focus or
 * tap away: a "?" button beside the thing it explains, whose text is also
 * the thing's accessible description. Terms follow PAPER.md.
 */

export const HELP: Record<string, string> = {
  net: "MLP: layers of units, each yₗ = σ(Wₗ yₗ₋₁). Recurrent: a rate RNN reads the image one row per time step, then waits through the delay, then answers.",
  hidden: "The width of each hidden layer, input to output (784 pixels in, 10 classes out). Deeper and narrower networks are harder to train online.",
  delay: "Time steps of zero input between the image's last row and the answer: how long the RNN must remember.",
  init: "How the initial weights are drawn (Xavier: uniform with variance 2/(fan in + fan out), times the gain).",
  gain: "A factor on the initial weights. 1 is the standard scale; 0.25 is 'too small' (signals fade through the layers), 4 'too large'.",
  feedback: "How the error reaches a hidden layer: backprop sends it back through Wᵀ; feedback alignment through a fixed random matrix B of the same shape; direct feedback alignment sends the output error straight to every hidden layer through its own fixed random matrix; sign symmetry through sign(W), with one magnitude per layer or a fixed random one per weight.",
  dale: "Dale's law: this fraction of every hidden layer's units are excitatory, the rest inhibitory, and each unit's outgoing weights keep its sign (a weight that would cross zero stays at zero). Empty: no constraint.",
  dataset: "MNIST digits, or Fashion-MNIST clothes (its test split), 28×28 grey pixels.",
  way: "N: classes per task. Each task picks N classes at random and relabels nothing: chance is 1/N.",
  shots: "K: training examples per class in a task. The network sees the N·K examples once each, one at a time (online, batch 1).",
  query: "Q: held-out examples per class on which each task is scored after training (the query accuracy).",
  tasks: "Tasks: independent runs, each from fresh initial weights on new examples; the headline number is the mean over tasks ± its standard error.",
  epochs: "Passes over a task's training examples. The paper's online setting is one pass; ten shows long-run stability (feedback alignment).",
  seed: "The seed fixes every task's classes, examples, their order and the initial weights: the same seed gives the same numbers here and in the CLI.",
  thetas: "θ terms: each rule's ΔWₗ after an example is Σ θ·term. bp: the error-driven update −eₗyₗ₋₁ᵀ (θ_bp is the learning rate); oja: Oja's rule yₗ(yₗ₋₁ − Wₗᵀyₗ)ᵀ, Hebbian growth with a decay that keeps rows near unit norm; hebb, ehebb, ye, eoja, decay: other local terms of the paper's pool. 0 turns a term off.",
  ownterms: "A term of your own, written as a formula over the synapse's signals: post (yₗ), pre (yₗ₋₁), e (eₗ), ePre (eₗ₋₁), u (Wₗᵀyₗ), ue (Wₗᵀeₗ) and W (the weight itself), with numbers, + − * / ^ and exp, log, tanh, abs, sign, relu. Its ΔW, forward-mode tangent and shape checks are derived from the formula. A formula that cannot be a term (an unknown signal, a syntax error, a division that can be zero) is refused with its reason beside the field and the token at the error's column highlighted under it; Run will not start until it is fixed or removed (×). Give it a coefficient θ in A or B (0: off); it is compiled in the page and in both workers, and goes into the link and the CLI command (--term '…'), which prints the same numbers.",
  acc: "Query accuracy: the fraction of each task's query examples classified correctly after its one pass of training, averaged over the tasks so far, ± standard error.",
  rate: "Training examples per second, counted as the CLI's steps/s counts them: each task's fresh network, its online steps and its scoring, over the worker's time spent on them. The diagnostics (the probe images through every layer: after the first and the last task, and between them at most once a second and under 5% of the worker's time) and the live views (diagram, example, answers) are timed apart: the brackets give the time each added to the training's; pauses are excluded. Each rule trains in its own worker (one core each, the two at once), sharing this machine's cores with the page: compare with the CLI's rate for `--workers 1` (one core per rule), not with its default, which gives one rule all the cores.",
  pr: "Participation ratio (Σλ)²/Σλ² of the layer's activations over 100 fixed probe images: how many dimensions they really use. Higher: richer features.",
  ortho: "‖WWᵀ − I‖_F/√n: how far the rows of Wₗ are from orthonormal. Oja's rule pulls it toward 0.",
  act: "‖yₗ‖: mean norm of layer l's activations on the probe images. A sag in the middle layers means the signal fades with depth.",
  err: "‖eₗ‖: mean norm of the error signal reaching layer l. If it vanishes, that layer stops learning.",
  wn: "‖Wₗ‖_F: the weight matrix's Frobenius norm (log scale). Exploding norms mean instability.",
  fa: "The angle between the error pathway's update (feedback alignment, DFA or sign symmetry) and the true gradient, in degrees. Below 90° the update still descends the loss.",
  boundary: "Under Dale's law: the fraction of each layer's constrained weights held at zero by the projection (they would have changed sign).",
  spec: "Spectral radius of J: the largest |eigenvalue| of the recurrent weights. Near 1 a memory neither fades nor explodes.",
  orthoJ: "‖JJᵀ − I‖/√N: how far J is from orthogonal (a perfect memory keeps norms).",
  h: "‖hₜ‖: the hidden state's norm at each time step of the latest task's probe sequences.",
  delta: "‖δₜ‖: the error's norm at each time step, sent back through time.",
  prt: "Participation ratio of the hidden state at each time step.",
  diagram: "The network on the example just trained on: the image, then each layer's first units (dots: activity, blue negative, red positive, scaled per layer; output: probability), and the weights between the drawn units (lines: red positive, blue negative, darker is larger). Under each column: its width and ‖W‖_F.",
  example: "The training example just seen (the label outlined in green) and the network's output probabilities over the 10 classes (the prediction dark).",
  fields: "Receptive fields: the first 16 rows of W₁, each a unit's weights on the 28×28 pixels, each scaled to its own largest |w| (blue negative, white 0, red positive). The RNN: J itself.",
  curve: "Query accuracy inside the current task, measured every k examples (the CLI's --curve k, here a quarter of the task); the dashed line is chance. Drawn only for a task estimated to take more than a second: a faster one ends before a curve would show anything.",
  play: "Play: train on, task after task, to the last one (a paused run resumes where it held).",
  pause: "Pause: both rules hold between two online steps, inside the current task; Play resumes with nothing lost or changed.",
  step: "Step: exactly one more task of both rules, then hold.",
  reset: "Reset: the run on screen again from fresh weights, nothing trained yet; the same seed gives the same numbers again.",
  run: "Run: the settings in the form as a new run; the link and the CLI command follow it.",
  copy: "Copy: the `neuroplastic train` command of the run on screen (not of an edited form); it prints the same accuracies.",
  presets: "Presets: one per claim of the paper. Each sets every field, runs, and says what to look for; when the run ends, the line below says what it found.",
  addterm: "Add a term: a new row for a term of your own (name = formula), with its θ in A and in B.",
  accchart: "Each task's query accuracy (dots) and the mean over the tasks so far (lines), A blue, B orange; chance is 1/N.",
  finding: "B − A: the difference in query accuracy on the same tasks from the same initial weights, averaged over the tasks ± its standard error ('no clear difference' within 2 se). Σ‖W‖: Σₗ ‖Wₗ‖_F after a task's training, averaged over the tasks that did not diverge: a large value means the weights grew or exploded.",
};

let nextId = 0;

/**
 * Where the tips live: one layer in the page's main landmark, outside the panels (whose `contain: paint` would clip a
 * tip and make it their own fixed-position containing block), each tip placed in the viewport's coordinates.
 */
function layer(): HTMLElement {
  let el = document.getElementById("tips");
  if (!el) { el = document.createElement("div"); el.id = "tips"; (document.querySelector("main") ?? document.body).append(el); }
  return el;
}

interface Tip { b: HTMLButtonElement; tip: HTMLElement; hover: boolean; focus: boolean; dismissed: boolean }
const tips: Tip[] = [];
/** Space kept between a tip and the viewport's edge (px). */
const EDGE = 8;

/**
 * A tip is shown while its "?" is pinned open (clicked or tapped: aria-expanded), or hovered or focused from the keyboard
 * and not dismissed with Escape (WCAG 1.4.13). A hover tip lets clicks through (pointer-events: none), so it never
 * covers the next row's "?"; a pinned one can be selected and stays until it is closed.
 */
function update(t: Tip): void {
  const pinned = t.b.getAttribute("aria-expanded") === "true", show = pinned || ((t.hover || t.focus) && !t.dismissed);
  t.tip.classList.toggle("shown", show);
  t.tip.classList.toggle("pinned", pinned);
  if (show) place(t);
}

/** Below the "?" (above it when there is no room), right-aligned to it, moved and narrowed to stay inside the viewport. */
function place(t: Tip): void {
  const vw = document.documentElement.clientWidth, vh = window.innerHeight, r = t.b.getBoundingClientRect(), s = t.tip.style;
  s.maxWidth = `${Math.max(0, vw - 2 * EDGE)}px`;
  const w = t.tip.offsetWidth, h = t.tip.offsetHeight;
  const left = Math.min(Math.max(EDGE, r.right - w), vw - EDGE - w);
  const below = r.bottom + 4, above = r.top - 4 - h;
  const top = below + h <= vh - EDGE || above < EDGE ? Math.min(below, Math.max(EDGE, vh - EDGE - h)) : above;
  s.left = `${Math.max(EDGE, left)}px`;
  s.top = `${top}px`;
}

/** A "?" right after `el` (a button, which cannot hold one): addHelp on a span placed beside it. */
export function addHelpAfter(el: HTMLElement, key: string, label: string): HTMLElement | null {
  const span = document.createElement("span");
  el.after(span);
  return addHelp(span, key, el, label);
}

/** A "?" button after `anchor` whose text explains `key`; `describes` gets it as its accessible description. */
export function addHelp(anchor: HTMLElement, key: string, describes?: HTMLElement, label?: string): HTMLElement | null {
  const text = HELP[key];
  if (!text) return null;
  const id = `help-${key}-${nextId++}`;
  const wrap = document.createElement("span");
  wrap.className = "help";
  const b = document.createElement("button");
  b.type = "button"; b.textContent = "?"; b.setAttribute("aria-label", `About ${label ?? key}`); b.setAttribute("aria-expanded", "false"); b.setAttribute("aria-controls", id);
  const tip = document.createElement("span");
  tip.id = id; tip.className = "tip"; tip.setAttribute("role", "tooltip"); tip.textContent = text;
  const t: Tip = { b, tip, hover: false, focus: false, dismissed: false };
  tips.push(t);
  b.addEventListener("click", (e) => {
    e.preventDefault();
    const open = b.getAttribute("aria-expanded") !== "true";
    closeAll();
    b.setAttribute("aria-expanded", String(open));
    t.dismissed = !open;
    update(t);
  });
  b.addEventListener("mouseenter", () => { t.hover = true; t.dismissed = false; update(t); });
  b.addEventListener("mouseleave", () => { t.hover = false; if (!t.focus) t.dismissed = false; update(t); });
  b.addEventListener("focus", () => { t.focus = b.matches(":focus-visible"); t.dismissed = false; update(t); });
  b.addEventListener("blur", () => { t.focus = false; t.dismissed = false; update(t); });
  wrap.append(b);
  anchor.append(wrap);
  layer().append(tip);
  if (describes) describes.setAttribute("aria-describedby", [describes.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
  return tip;
}

function closeAll(): void {
  for (const t of tips) if (t.b.getAttribute("aria-expanded") === "true") { t.b.setAttribute("aria-expanded", "false"); update(t); }
}
// Escape hides every tip shown, pinned, hovered or focused, until the pointer or the focus comes back to its "?".
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  for (const t of tips) { t.dismissed = true; t.b.setAttribute("aria-expanded", "false"); update(t); }
});
document.addEventListener("click", (e) => { const el = e.target as HTMLElement; if (!el.closest?.(".help") && !el.closest?.(".tip")) closeAll(); });
// The page scrolls or resizes under a shown tip: keep it beside its "?" and inside the viewport.
const replace = () => { for (const t of tips) if (t.tip.classList.contains("shown")) place(t); };
window.addEventListener("scroll", replace, { passive: true, capture: true });
window.addEventListener("resize", replace);
