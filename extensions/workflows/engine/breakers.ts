// The run's two circuit breakers. A provider that refused the run (auth, quota) is not tried again by any stage
// of this process, and when no fallback got past the refusal the run stops `blocked` (a resume tries again,
// once the user fixed it). And the same failure (same model, same kind) ending 3 stages stops the run
// `blocked`, rather than spending through the rest of a fan-out that fails the same way.

import { RunStop } from "../authoring/run-stop.js";

export const SAME_FAILURE_LIMIT = 3;

export class RunBreakers {
	private readonly refused = new Map<string, string>();
	private readonly failures = new Map<string, string[]>();

	/** The provider refused a stage's attempt: no later attempt of the run uses it. */
	refuse(provider: string, error: string): void {
		if (!this.refused.has(provider)) this.refused.set(provider, error);
	}

	/** Why the provider may not be used, when it refused earlier in the run. */
	refusal(provider: string): string | undefined {
		return this.refused.get(provider);
	}

	/** A stage ended failed: the stop to make, when its refusal or its failure now stops the run. */
	stageFailed(stageId: string, model: string, kind: string | undefined, error: string): RunStop | undefined {
		if (kind === "auth" || kind === "quota") {
			const provider = model.slice(0, model.indexOf("/"));
			return new RunStop(
				"blocked",
				`provider "${provider}" refused the run (${kind}) and no fallback model got past it: stage "${stageId}": ${error}. Fix it (a login, a key, a quota), then resume the run`,
			);
		}
		if (!kind || kind === "aborted") return undefined;
		const key = `${model} ${kind}`;
		const stages = [...(this.failures.get(key) ?? []), stageId];
		this.failures.set(key, stages);
		if (stages.length < SAME_FAILURE_LIMIT) return undefined;
		return new RunStop(
			"blocked",
			`the same failure ended ${stages.length} stages (model ${model}, ${kind}: ${stages.join(", ")}); the run stopped instead of spending through the rest. Last error: ${error}`,
		);
	}
}
