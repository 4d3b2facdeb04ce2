// Resolves a stage's model spec (`provider/id` or `provider/id:level`) against Pi's model registry.
// Unknown provider, unknown id, bad level and missing credentials are distinct errors, returned as data.

import type { ThinkingLevel } from "@mariozechner/pi-agent-core";
import type { Api, Model } from "@mariozechner/pi-ai";
import type { ModelRegistry } from "@mariozechner/pi-coding-agent";

export const THINKING_LEVELS: readonly ThinkingLevel[] = ["off", "minimal", "low", "medium", "high", "xhigh"];

export interface ResolvedModel {
	model: Model<Api>;
	thinkingLevel?: ThinkingLevel;
	/** The spec in canonical form: `provider/id` or `provider/id:level`. */
	label: string;
}

export type ModelResolution =
	| { ok: true; value: ResolvedModel }
	/** `missingCredentials`: the model exists but its provider has no key or login (a fallback is then skipped). */
	| { ok: false; error: string; missingCredentials?: boolean };

export function resolveModelSpec(spec: string, registry: ModelRegistry): ModelResolution {
	const slash = typeof spec === "string" ? spec.indexOf("/") : -1;
	if (slash <= 0 || slash === spec.length - 1) {
		return { ok: false, error: `model: expected "provider/id" or "provider/id:level", got ${JSON.stringify(spec)}` };
	}
	const provider = spec.slice(0, slash);
	const rest = spec.slice(slash + 1);
	// Ids may contain ":" themselves; only a trailing ":<word>" that is not part of a known id is a level.
	// NOTE: `find` reads one provider's models; `getAll` merges every provider's catalog (costly on Pi 1.x), so it
	// is left to the error path.
	let model = registry.find(provider, rest);
	let level: string | undefined;
	const colon = rest.lastIndexOf(":");
	if (!model && colon > 0) {
		model = registry.find(provider, rest.slice(0, colon));
		level = rest.slice(colon + 1);
	}
	if (!model)
		return { ok: false, error: unknownModelError(spec, provider, colon > 0 ? rest.slice(0, colon) : rest, registry) };
	if (level !== undefined && !THINKING_LEVELS.includes(level as ThinkingLevel)) {
		return {
			ok: false,
			error: `model "${spec}": bad thinking level "${level}" (expected one of ${THINKING_LEVELS.join(", ")})`,
		};
	}
	if (!registry.hasConfiguredAuth(model)) {
		return {
			ok: false,
			error: `model "${spec}": no API key or login configured for provider "${provider}"`,
			missingCredentials: true,
		};
	}
	const thinkingLevel = level as ThinkingLevel | undefined;
	const label = `${model.provider}/${model.id}${thinkingLevel ? `:${thinkingLevel}` : ""}`;
	return { ok: true, value: { model, thinkingLevel, label } };
}

function unknownModelError(spec: string, provider: string, id: string, registry: ModelRegistry): string {
	const all = registry.getAll();
	const ofProvider = all.filter((model) => model.provider === provider);
	if (ofProvider.length === 0) {
		const providers = [...new Set(all.map((model) => model.provider))].sort();
		return `model "${spec}": unknown provider "${provider}" (known providers: ${providers.join(", ")})`;
	}
	const known = ofProvider.map((candidate) => candidate.id).slice(0, 12);
	const more = ofProvider.length > known.length ? `, ... ${ofProvider.length - known.length} more` : "";
	return `model "${spec}": unknown id "${id}" for provider "${provider}" (known: ${known.join(", ")}${more})`;
}
