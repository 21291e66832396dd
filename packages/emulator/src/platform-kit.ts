import { emulatorError } from './errors.js';
import type { EmulatedPlatform, EmulatorRequest, EmulatorResponse } from './platform.js';

/**
 * The one way an emulated platform is built (see "Adding a platform" in the README):
 *
 * - a **state** object owns everything the platform remembers (seeded data, tokens, run-time
 *   changes) and the helpers more than one area needs;
 * - each **API area** (tokens, agents, sessions, messages, records, media…) is a function
 *   `(state) => routes` in its own file, answering only its own paths;
 * - a **gate** is the platform's own pipeline around every route: method check, credentials,
 *   platform-level faults (WeChat's `-1` busy, quotas, token revocation), the answer's envelope;
 * - **control** endpoints under `/__emulator/<name>/` are a table of their own.
 *
 * {@link composePlatform} merges the areas into one route table (a path owned twice is a bug
 * and throws at start) and gives the server an {@link EmulatedPlatform}. Transport faults
 * (latency, 5xx, resets, broken bodies) are not a platform's business: the server's fault
 * layer (transport-faults.ts) wraps every platform's answer.
 */

/** An API area: the routes it owns, by path (as the platform's `routeKey` spells it). */
export type ApiArea<State, Route> = (state: State) => Readonly<Record<string, Route>>;

/** A control endpoint: its JSON answer, or a whole {@link EmulatorResponse} when `raw`. */
export type ControlEndpoint<State> =
  | { raw?: false; handle(state: State, request: EmulatorRequest): unknown }
  | { raw: true; handle(state: State, request: EmulatorRequest): EmulatorResponse };

/** Control endpoints by `METHOD path` below `/__emulator/<name>/`. */
export type ControlTable<State> = Readonly<Record<string, ControlEndpoint<State>>>;

/** What a platform is made of. */
export interface PlatformParts<State, Route> {
  /** Short name: logs, the request log, and the control prefix `/__emulator/<name>/`. */
  name: string;
  state: State;
  areas: ReadonlyArray<ApiArea<State, Route>>;
  /** The key a request path is looked up under (default: the path itself). */
  routeKey?(path: string): string;
  /** The gate: runs a found route for a request. */
  serve(route: Route, request: EmulatorRequest, state: State): EmulatorResponse | Promise<EmulatorResponse>;
  /** The answer when no route matches: the platform's own "no such API", or undefined for paths it does not own. */
  unrouted(request: EmulatorRequest, state: State): EmulatorResponse | undefined;
  control: ControlTable<State>;
  /** Stops the state's timers and outgoing deliveries. */
  close?(state: State): Promise<void>;
}

/** A composed platform: the server's {@link EmulatedPlatform} plus its state and route table. */
export interface ComposedPlatform<State, Route> extends EmulatedPlatform {
  readonly state: State;
  /** Every route, by key: what the platform serves, in one place. */
  readonly routes: ReadonlyMap<string, Route>;
}

/** Builds a platform from its parts. */
export function composePlatform<State, Route>(parts: PlatformParts<State, Route>): ComposedPlatform<State, Route> {
  const routeKey = parts.routeKey ?? ((path: string) => path);
  const routes = mergeAreas(parts.name, parts.state, parts.areas, routeKey);
  return {
    name: parts.name,
    state: parts.state,
    routes,
    async handle(request) {
      const route = routes.get(routeKey(request.url.pathname));
      if (route === undefined) return parts.unrouted(request, parts.state);
      return parts.serve(route, request, parts.state);
    },
    async control(request, path) {
      const endpoint = parts.control[`${request.method} ${path}`];
      if (!endpoint) return undefined;
      if (endpoint.raw) return endpoint.handle(parts.state, request);
      return { status: 200, body: await endpoint.handle(parts.state, request) };
    },
    async close() {
      await parts.close?.(parts.state);
    },
  };
}

/** One table from every area's routes; a path two areas claim throws EMULATOR_ROUTE_CONFLICT at start. */
function mergeAreas<State, Route>(
  name: string,
  state: State,
  areas: ReadonlyArray<ApiArea<State, Route>>,
  routeKey: (path: string) => string,
): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const area of areas) {
    for (const [path, route] of Object.entries(area(state))) {
      const key = routeKey(path);
      if (routes.has(key)) throw emulatorError('EMULATOR_ROUTE_CONFLICT', `${name}: two API areas serve ${path}`);
      routes.set(key, route);
    }
  }
  return routes;
}
