// What a resumed run knows from its journal: for each call identity, the last recorded attempt (its
// stage id, fingerprint, transcripts and how it ended). The stage runner and ctx.tool ask it whether
// a call can return its recorded result, must continue an interrupted transcript, or must run again.

import type { StageResult } from "../authoring/types.js";
import type { JournalEvent, ToolOutcome } from "../store/events.js";

export type RecordedState = "running" | "completed" | "failed" | "cancelled" | "interrupted";

export interface RecordedCall {
	kind: "task" | "tool" | "prompt";
	key: string;
	stageId: string;
	fingerprint: string;
	state: RecordedState;
	/** Transcripts of the stage's attempts, oldest first (tasks only). */
	sessionFiles: string[];
	/** The recorded result of a completed task. */
	result?: StageResult;
	/** The recorded outcome of a tool call that may be replayed. */
	outcome?: ToolOutcome;
	/** The recorded answer of a question (state completed); a pending one is state running. */
	answer?: string | boolean;
	/** Messages steered to the stage during its last attempt (some may never have reached its transcript). */
	steers: string[];
}

export class ReplayLog {
	private readonly byKey = new Map<string, RecordedCall>();
	private readonly byStageId = new Map<string, RecordedCall>();
	/** Every stage id the journal used, so new stages never take one. */
	readonly usedIds = new Set<string>();

	static fromEvents(events: readonly JournalEvent[]): ReplayLog {
		const log = new ReplayLog();
		for (const event of events) log.apply(event);
		return log;
	}

	get(key: string): RecordedCall | undefined {
		return this.byKey.get(key);
	}

	private apply(event: JournalEvent): void {
		switch (event.type) {
			case "stage_started":
			case "tool_started":
			case "prompt_pending": {
				this.usedIds.add(event.stageId);
				if (!event.key) return;
				const previous = this.byKey.get(event.key);
				const sessionFiles = [...(previous?.sessionFiles ?? [])];
				if (event.type === "stage_started" && !sessionFiles.includes(event.sessionFile)) {
					sessionFiles.push(event.sessionFile);
				}
				const call: RecordedCall = {
					kind: event.type === "stage_started" ? "task" : event.type === "tool_started" ? "tool" : "prompt",
					key: event.key,
					stageId: event.stageId,
					fingerprint: event.fingerprint,
					state: "running",
					sessionFiles,
					steers: [],
				};
				this.byKey.set(event.key, call);
				this.byStageId.set(event.stageId, call);
				return;
			}
			case "stage_completed":
				this.settle(event.stageId, { state: "completed", result: event.result });
				return;
			case "stage_failed":
				this.settle(event.stageId, { state: event.cancelled ? "cancelled" : "failed" });
				return;
			case "stage_interrupted":
				this.settle(event.stageId, { state: "interrupted" });
				return;
			case "stage_steered":
				this.byStageId.get(event.stageId)?.steers.push(event.message);
				return;
			case "prompt_answered":
				this.settle(event.stageId, { state: "completed", answer: event.answer });
				return;
			case "tool_finished": {
				const replayable = !event.stopped && (event.outcome.ok || event.failureReturned === true);
				const state = event.stopped ? "interrupted" : event.outcome.ok ? "completed" : "failed";
				this.settle(event.stageId, { state, ...(replayable ? { outcome: event.outcome } : {}) });
				return;
			}
		}
	}

	private settle(stageId: string, update: Partial<RecordedCall>): void {
		const call = this.byStageId.get(stageId);
		if (call) Object.assign(call, update);
	}
}
