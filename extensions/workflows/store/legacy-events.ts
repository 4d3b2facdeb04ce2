// The migration step from journal version 1, which had one event type per node kind (stage_started,
// tool_finished, prompt_answered, ...), to version 2's node events. It runs on every line read, so a
// version 1 journal replays unchanged, and one that a newer process appended to reads as one history.

import type { StageResult, Usage } from "../authoring/types.js";
import type { JournalEvent, NodeFinishedEvent, PromptKind, ToolOutcome } from "./events.js";

/** The version 1 events that version 2 replaced, as version 1 wrote them. */
type LegacyEvent =
	| {
			type: "stage_started";
			at: string;
			stageId: string;
			key?: string;
			name: string;
			parents: string[];
			fingerprint: string;
			model: string;
			sessionFile: string;
			rerun?: string;
			continued?: boolean;
	  }
	| { type: "stage_completed"; at: string; stageId: string; result: StageResult }
	| {
			type: "stage_failed";
			at: string;
			stageId: string;
			error: string;
			cancelled?: boolean;
			usage: Usage;
			durationMs: number;
	  }
	| { type: "stage_interrupted"; at: string; stageId: string; reason: string; usage: Usage; durationMs: number }
	| { type: "stage_replayed"; at: string; stageId: string }
	| { type: "stage_steered"; at: string; stageId: string; message: string }
	| {
			type: "tool_started";
			at: string;
			stageId: string;
			key: string;
			name: string;
			parents: string[];
			fingerprint: string;
			args: unknown;
			rerun?: string;
	  }
	| {
			type: "tool_finished";
			at: string;
			stageId: string;
			outcome: ToolOutcome;
			calls: number;
			durationMs: number;
			stopped?: boolean;
			failureReturned?: boolean;
	  }
	| {
			type: "prompt_pending";
			at: string;
			stageId: string;
			key: string;
			parents: string[];
			fingerprint: string;
			kind: PromptKind;
			message: string;
			options?: string[];
			placeholder?: string;
			initial?: string;
			stage?: string;
	  }
	| { type: "prompt_answered"; at: string; stageId: string; answer: string | boolean };

const LEGACY_TYPES = new Set<string>([
	"stage_started",
	"stage_completed",
	"stage_failed",
	"stage_interrupted",
	"stage_replayed",
	"stage_steered",
	"tool_started",
	"tool_finished",
	"prompt_pending",
	"prompt_answered",
]);

/** The version 2 form of an event; events that are not version 1 node events pass through as they are. */
export function migrateEvent(event: { type: string }): JournalEvent {
	if (!LEGACY_TYPES.has(event.type)) return event as JournalEvent;
	const legacy = event as LegacyEvent;
	const { at, stageId } = legacy;
	switch (legacy.type) {
		case "stage_started":
			return {
				type: "node_started",
				kind: "task",
				at,
				stageId,
				// Version 1 journals before replay identities had no key; the stage id stood for the call.
				key: legacy.key ?? `${legacy.name}#legacy:${stageId}`,
				name: legacy.name,
				parents: legacy.parents,
				fingerprint: legacy.fingerprint,
				model: legacy.model,
				sessionFile: legacy.sessionFile,
				...(legacy.rerun ? { rerun: legacy.rerun } : {}),
				...(legacy.continued ? { continued: true } : {}),
			};
		case "stage_completed":
			return finished(legacy, "completed", {
				result: legacy.result,
				usage: legacy.result.usage,
				durationMs: legacy.result.durationMs,
			});
		case "stage_failed":
			return finished(legacy, legacy.cancelled ? "cancelled" : "failed", {
				error: legacy.error,
				usage: legacy.usage,
				durationMs: legacy.durationMs,
			});
		case "stage_interrupted":
			return finished(legacy, "interrupted", {
				error: legacy.reason,
				usage: legacy.usage,
				durationMs: legacy.durationMs,
			});
		case "stage_replayed":
			return { type: "node_replayed", at, stageId };
		case "stage_steered":
			return { type: "node_steered", at, stageId, message: legacy.message };
		case "tool_started":
			return {
				type: "node_started",
				kind: "tool",
				at,
				stageId,
				key: legacy.key,
				name: legacy.name,
				parents: legacy.parents,
				fingerprint: legacy.fingerprint,
				args: legacy.args,
				...(legacy.rerun ? { rerun: legacy.rerun } : {}),
			};
		case "tool_finished": {
			const { outcome } = legacy;
			const status = legacy.stopped ? "interrupted" : outcome.ok ? "completed" : "failed";
			const kept = outcome.ok || legacy.failureReturned === true;
			return finished(legacy, status, {
				...(kept && !legacy.stopped ? { result: outcome } : {}),
				...(outcome.ok ? {} : { error: outcome.error.message }),
				...(legacy.failureReturned ? { handled: true } : {}),
				calls: legacy.calls,
				durationMs: legacy.durationMs,
			});
		}
		case "prompt_pending":
			return {
				type: "node_started",
				kind: "prompt",
				at,
				stageId,
				key: legacy.key,
				name: legacy.kind,
				parents: legacy.parents,
				fingerprint: legacy.fingerprint,
				question: {
					kind: legacy.kind,
					message: legacy.message,
					...(legacy.options ? { options: legacy.options } : {}),
					...(legacy.placeholder ? { placeholder: legacy.placeholder } : {}),
					...(legacy.initial !== undefined ? { initial: legacy.initial } : {}),
				},
				...(legacy.stage ? { stage: legacy.stage } : {}),
			};
		case "prompt_answered":
			return finished(legacy, "completed", { result: legacy.answer });
	}
}

function finished(
	legacy: { at: string; stageId: string },
	status: NodeFinishedEvent["status"],
	rest: Omit<NodeFinishedEvent, "type" | "at" | "stageId" | "status">,
): NodeFinishedEvent {
	return { type: "node_finished", at: legacy.at, stageId: legacy.stageId, status, ...rest };
}
