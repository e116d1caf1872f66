import type { Dataset } from "../data/dataset-core.js";
import { mlpModule } from "./mlp/module.js";
import { own, type NetConfig, type NetworkModule } from "./module.js";
import { rnnModule } from "./rnn/module.js";

export { outputsOf, own, type NetConfig, type NetDisplay, type NetFlag, type NetStreams, type NetworkModule, type ProbeResult } from "./module.js";

export type BuiltinNet = "mlp" | "rnn";
/** The kind of a configuration without `net` (the paper's network). */
export const DEFAULT_NET: BuiltinNet = "mlp";
/** The built-in networks: the compiler checks that every kind has its module. */
export const BUILTIN_NETWORKS = { mlp: mlpModule, rnn: rnnModule } satisfies Record<BuiltinNet, NetworkModule>;

const registry = new Map<string, NetworkModule>(Object.values(BUILTIN_NETWORKS).map((m) => [m.kind, m]));

/** Add a kind of network (a library extension, or a test's); refused if the kind is taken. */
export function registerNetwork(m: NetworkModule): void {
  if (registry.has(m.kind)) throw new RangeError(`a network kind '${m.kind}' is already registered`);
  registry.set(m.kind, m);
}

export function networkKinds(): string[] { return [...registry.keys()]; }

/** Whether a kind of network has an own flag with this key (the RNN's "delay", say). */
export function hasOwnFlag(kind: string | undefined, key: string): boolean {
  return networkOf(kind).flags.some((f) => f.key === key);
}
export function networkModules(): NetworkModule[] { return [...registry.values()]; }

/** The module of a kind (default "mlp"); a one-line error naming the kinds for an unknown one. */
export function networkOf(kind: string | undefined): NetworkModule {
  const m = registry.get(kind ?? DEFAULT_NET);
  if (!m) throw new RangeError(`--net must be one of ${networkKinds().join(", ")}, got '${kind}'`);
  return m;
}

/** A configuration's network: its own flags only, then the module's checks. */
export function checkNetwork(cfg: NetConfig, ds: Dataset): NetworkModule {
  const m = networkOf(cfg.net);
  for (const other of registry.values()) {
    if (other === m) continue;
    for (const f of other.flags) {
      if (m.flags.some((g) => g.key === f.key)) continue;
      if (own(cfg, f.key) !== undefined) throw new RangeError(`${f.flags.split(" ")[0]} applies to --net ${other.kind} only`);
    }
  }
  m.check(cfg, ds);
  return m;
}
