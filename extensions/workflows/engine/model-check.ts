// The model strings a run knows before it starts (its default model, the models and fallbacks a one-off spec
// names), checked at once against the host's registry, every problem listed together: unknown provider,
// unknown id, bad thinking level, no credentials (a fallback without them is only skipped when its turn comes),
// and a cost limit on a model whose price is unknown.

import type { ModelRegistry } from "@mariozechner/pi-coding-agent";
import { resolveModelSpec } from "../stages/model-spec.js";

export interface KnownModel {
	spec: string;
	/** Where it was named, for the message (`step "scout" model`). */
	where: string;
	fallback?: boolean;
}

export function modelProblems(models: readonly KnownModel[], registry: ModelRegistry, costLimit: boolean): string[] {
	const problems: string[] = [];
	for (const known of models) {
		const resolved = resolveModelSpec(known.spec, registry);
		if (!resolved.ok) {
			if (!(known.fallback && resolved.missingCredentials)) problems.push(`${known.where}: ${resolved.error}`);
			continue;
		}
		const { cost } = resolved.value.model;
		if (costLimit && cost.input === 0 && cost.output === 0) {
			problems.push(
				`${known.where}: model "${resolved.value.label}" has no known price (its cost per token is 0), so the budget's maxCostUsd cannot be kept; give the model a price (models.json) or drop the cost limit`,
			);
		}
	}
	return problems;
}
