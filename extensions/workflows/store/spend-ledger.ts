// What a run has spent, folded from its journal. A stage's usage events are cumulative per transcript
// (a continued stage reports its whole transcript), so each attempt (transcript) keeps its latest
// figure and a stage's spend is the sum over its attempts. The budget and the report both use this.

import type { Usage } from "../authoring/types.js";
import { addUsage, zeroUsage } from "../authoring/usage.js";
import type { JournalEvent } from "./events.js";

export class SpendLedger {
	/** Transcript of each stage's current attempt. */
	private readonly currentAttempt = new Map<string, string>();
	private readonly attemptUsage = new Map<string, Usage>();
	private readonly attemptsOfStage = new Map<string, Set<string>>();

	apply(event: JournalEvent): void {
		switch (event.type) {
			case "stage_started": {
				this.currentAttempt.set(event.stageId, event.sessionFile);
				const attempts = this.attemptsOfStage.get(event.stageId) ?? new Set();
				attempts.add(event.sessionFile);
				this.attemptsOfStage.set(event.stageId, attempts);
				break;
			}
			case "stage_completed":
				this.settle(event.stageId, event.result.usage);
				break;
			case "stage_failed":
			case "stage_interrupted":
				this.settle(event.stageId, event.usage);
				break;
		}
	}

	/** Spend of one stage over all its attempts. */
	stage(stageId: string): Usage {
		let total = zeroUsage();
		for (const attempt of this.attemptsOfStage.get(stageId) ?? []) {
			const usage = this.attemptUsage.get(attempt);
			if (usage) total = addUsage(total, usage);
		}
		return total;
	}

	total(): Usage {
		let total = zeroUsage();
		for (const usage of this.attemptUsage.values()) total = addUsage(total, usage);
		return total;
	}

	private settle(stageId: string, usage: Usage): void {
		const attempt = this.currentAttempt.get(stageId);
		if (attempt) this.attemptUsage.set(attempt, usage);
	}
}
