// The one place where the two Pi lines differ for stages: how a stage session reaches the host's models
// and credentials, and how an empty in-memory model registry is made (tests, the demo, the bench).
//
// - Pi 0.73.1 (`@mariozechner/pi-coding-agent`): `createAgentSession` takes the host's `ModelRegistry` and
//   its `AuthStorage`.
// - Pi 1.x (`@earendil-works/pi-coding-agent`; since 0.80.8): `createAgentSession` ignores both and, unless
//   given a `modelRuntime`, builds a fresh one from the agent dir, which knows none of the providers that
//   extensions registered, no `--api-key` key and no runtime login. The host's runtime sits on the field
//   `runtime` of its `ModelRegistry`.
//   NOTE: that field is `private` in Pi's types; there is no public accessor for extensions as of 1.6.0.
//   When it is missing we fail with a clear message, never with a silent fresh runtime.
//
// The line is told by what the SDK exports (`ModelRuntime`, `AuthStorage`), never by its version number.

import * as ai from "@mariozechner/pi-ai";
import type { CreateAgentSessionOptions, ModelRegistry } from "@mariozechner/pi-coding-agent";
import * as sdk from "@mariozechner/pi-coding-agent";

export interface ModelHost {
	/** How stages reach the host's models: its `ModelRuntime` (Pi 1.x) or its registry and auth storage (0.73.1). */
	readonly via: "runtime" | "registry";
	/** `createAgentSession` options that give a stage the host's models and credentials. */
	sessionOptions(registry: ModelRegistry): Partial<CreateAgentSessionOptions>;
	/** An empty model registry with in-memory credentials: built-in models only, until providers are registered. */
	createInMemoryRegistry(): Promise<ModelRegistry>;
}

/** What a model host is built from: the Pi SDK and pi-ai module namespaces (parameters, so tests can vary them). */
export interface PiModules {
	sdk: object;
	ai: object;
}

type Constructor = new (...args: never[]) => unknown;
interface RuntimeClass {
	create(options: object): Promise<unknown>;
}
interface InMemoryAuthClass {
	inMemory(): unknown;
}

/** Builds the host for the given Pi modules, or says in one message what this Pi lacks. */
export function detectModelHost(modules: PiModules): { ok: true; host: ModelHost } | { ok: false; error: string } {
	const pi = modules.sdk as Record<string, unknown>;
	const piAi = modules.ai as Record<string, unknown>;
	const version = typeof pi.VERSION === "string" ? pi.VERSION : "of unknown version";
	const fail = (missing: string) => ({
		ok: false as const,
		error: `pi-workflows cannot run stages on Pi ${version}: ${missing}. Supported: Pi 0.73.1 (@mariozechner/pi-coding-agent) and the 1.x line (@earendil-works/pi-coding-agent).`,
	});
	const Registry = pi.ModelRegistry as (Constructor & { inMemory?: (auth: unknown) => ModelRegistry }) | undefined;
	if (typeof Registry !== "function") return fail("the SDK exports no ModelRegistry");
	if (typeof pi.createAgentSession !== "function") return fail("the SDK exports no createAgentSession");

	const Runtime = pi.ModelRuntime as (Constructor & RuntimeClass) | undefined;
	if (typeof Runtime === "function") {
		const CredentialStore = piAi.InMemoryCredentialStore as Constructor | undefined;
		if (typeof CredentialStore !== "function") return fail("pi-ai exports no InMemoryCredentialStore");
		const unreachable = runtimeFieldProblem(Registry);
		if (unreachable) return fail(unreachable);
		return {
			ok: true,
			host: {
				via: "runtime",
				sessionOptions: (registry) =>
					({ modelRuntime: hostRuntime(registry, version) }) as Partial<CreateAgentSessionOptions>,
				createInMemoryRegistry: async () => {
					const runtime = await Runtime.create({
						credentials: new CredentialStore(),
						modelsPath: null,
						refreshOnCreate: false,
					});
					return new Registry(runtime as never) as ModelRegistry;
				},
			},
		};
	}

	const Auth = pi.AuthStorage as InMemoryAuthClass | undefined;
	if (typeof Auth?.inMemory === "function" && typeof Registry.inMemory === "function") {
		const inMemory = Registry.inMemory;
		return {
			ok: true,
			host: {
				via: "registry",
				sessionOptions: (registry) =>
					({
						modelRegistry: registry,
						authStorage: authStorageOf(registry, version),
					}) as Partial<CreateAgentSessionOptions>,
				createInMemoryRegistry: async () => inMemory(Auth.inMemory()),
			},
		};
	}
	return fail("the SDK exports neither ModelRuntime (Pi 1.x) nor AuthStorage with ModelRegistry.inMemory (Pi 0.73.1)");
}

let current: ModelHost | undefined;

/** The host of the Pi this extension runs in; throws the detection message when this Pi is not supported. */
export function modelHost(): ModelHost {
	if (current) return current;
	const detected = detectModelHost({ sdk, ai });
	if (!detected.ok) throw new Error(detected.error);
	current = detected.host;
	return current;
}

/** Probes a throwaway instance: the 1.x registry keeps the runtime it wraps in `runtime`, and does nothing else. */
function runtimeFieldProblem(Registry: Constructor): string | undefined {
	const probe = {};
	let registry: { runtime?: unknown };
	try {
		registry = new Registry(probe as never) as { runtime?: unknown };
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		return `its ModelRegistry constructor no longer just wraps a ModelRuntime (probing it threw: ${message})`;
	}
	if (registry.runtime === probe) return undefined;
	return 'its ModelRegistry keeps the host\'s ModelRuntime in no field "runtime" (the only way an extension can reach it)';
}

function hostRuntime(registry: ModelRegistry, version: string): unknown {
	const runtime = (registry as unknown as { runtime?: { getModel?: unknown; streamSimple?: unknown } }).runtime;
	if (typeof runtime?.getModel !== "function" || typeof runtime.streamSimple !== "function") {
		throw new Error(
			`pi-workflows cannot reach the host's model runtime on Pi ${version}: its ModelRegistry holds no model runtime in the field "runtime"; a stage started without it would lose extension providers, --api-key keys and logins`,
		);
	}
	return runtime;
}

function authStorageOf(registry: ModelRegistry, version: string): unknown {
	const auth = (registry as unknown as { authStorage?: unknown }).authStorage;
	if (!auth)
		throw new Error(
			`pi-workflows cannot reach the host's credentials on Pi ${version}: its ModelRegistry has no authStorage`,
		);
	return auth;
}
