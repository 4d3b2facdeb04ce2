// The seam between the Pi lines: it tells the line from the SDK's exports, hands stages the host's own models and
// credentials, and refuses, in one message naming the Pi version and what is missing, a Pi it cannot serve.

import * as ai from "@mariozechner/pi-ai";
import type { ModelRegistry } from "@mariozechner/pi-coding-agent";
import * as sdk from "@mariozechner/pi-coding-agent";
import { describe, expect, it } from "vitest";
import { detectModelHost, type ModelHost } from "../extensions/workflows/stages/model-host.js";
import { activePiLine } from "../scripts/pi-line.js";

const VERSION = sdk.VERSION;

function hostOf(modules: { sdk: object; ai: object }): ModelHost {
	const detected = detectModelHost(modules);
	if (!detected.ok) throw new Error(detected.error);
	return detected.host;
}

function refusal(modules: { sdk: object; ai: object }): string {
	const detected = detectModelHost(modules);
	if (detected.ok) throw new Error(`expected a refusal, got a host via ${detected.host.via}`);
	return detected.error;
}

/** A Pi 1.x-shaped SDK whose ModelRegistry is the given class (the rest as on 1.x). */
function latestShaped(ModelRegistry: unknown): object {
	return { VERSION: "9.9.9", createAgentSession: () => undefined, ModelRuntime: class {}, ModelRegistry };
}
const withCredentialStore = { InMemoryCredentialStore: class {} };

describe("the model host", () => {
	it("gives stages the host's own model access on the line under test", async () => {
		const host = hostOf({ sdk, ai });
		const registry = await host.createInMemoryRegistry();
		const options = host.sessionOptions(registry) as Record<string, unknown>;
		if (activePiLine() === "latest") {
			expect(host.via).toBe("runtime");
			// The very runtime the registry wraps, never a fresh one.
			expect(Object.keys(options)).toEqual(["modelRuntime"]);
			expect(options.modelRuntime).toBe((registry as unknown as { runtime: unknown }).runtime);
		} else {
			expect(host.via).toBe("registry");
			expect(options.modelRegistry).toBe(registry);
			expect(options.authStorage).toBe((registry as unknown as { authStorage: unknown }).authStorage);
		}
	});

	it("makes in-memory registries that start without providers and keep them apart", async () => {
		const host = hostOf({ sdk, ai });
		const first = await host.createInMemoryRegistry();
		const second = await host.createInMemoryRegistry();
		first.registerProvider("only-here", {
			baseUrl: "http://localhost:0",
			apiKey: "k",
			api: "only-here-api",
			streamSimple: () => {
				throw new Error("not called");
			},
			models: [
				{
					id: "m",
					name: "m",
					reasoning: false,
					input: ["text"],
					cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
					contextWindow: 1000,
					maxTokens: 100,
				},
			],
		});
		expect(first.find("only-here", "m")?.id).toBe("m");
		expect(second.find("only-here", "m")).toBeUndefined();
	});

	it("refuses a Pi that has neither line's model API, naming its version", () => {
		const error = refusal({ sdk: { ...sdk, ModelRuntime: undefined, AuthStorage: undefined }, ai });
		expect(error).toContain(`Pi ${VERSION}`);
		expect(error).toContain("neither ModelRuntime (Pi 1.x) nor AuthStorage");
	});

	it("refuses a Pi without createAgentSession", () => {
		expect(refusal({ sdk: { ...sdk, createAgentSession: undefined }, ai })).toContain(
			`Pi ${VERSION}: the SDK exports no createAgentSession`,
		);
	});

	it('refuses a 1.x Pi whose ModelRegistry keeps its runtime in no field "runtime"', () => {
		class RenamedField {
			readonly models: unknown;
			constructor(runtime: unknown) {
				this.models = runtime;
			}
		}
		const error = refusal({ sdk: latestShaped(RenamedField), ai: withCredentialStore });
		expect(error).toContain("Pi 9.9.9");
		expect(error).toContain('no field "runtime"');
	});

	it("refuses a 1.x Pi whose ModelRegistry constructor uses the runtime it is given", () => {
		class Eager {
			constructor(runtime: { getModels(): unknown }) {
				runtime.getModels();
			}
		}
		expect(refusal({ sdk: latestShaped(Eager), ai: withCredentialStore })).toContain("probing it threw");
	});

	it("never starts a stage on a fresh runtime: a registry that holds no runtime is refused", () => {
		class Wraps {
			constructor(readonly runtime: unknown) {}
		}
		const host = hostOf({ sdk: latestShaped(Wraps), ai: withCredentialStore });
		const notTheHosts = new Wraps(undefined) as unknown as ModelRegistry;
		expect(() => host.sessionOptions(notTheHosts)).toThrow(
			'pi-workflows cannot reach the host\'s model runtime on Pi 9.9.9: its ModelRegistry holds no model runtime in the field "runtime"',
		);
	});
});
