// The replay rules of a stage (ctx.task): a completed record with the same definition and inputs is returned
// as it is (unless its output file is gone), an unfinished one continues its own transcript (and the model it
// was on) when that holds work, and anything else starts a new transcript. Also the names of its transcripts
// and the fields of its start event, which a stage's next model attempt journals again.

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { StageResult, TaskOptions, Usage } from "../../authoring/types.js";
import { inspectTranscript } from "../../stages/transcript.js";
import type { WorktreeRecord } from "../../store/events.js";
import type { NodeState } from "../../store/run-fold.js";
import type { Scope } from "../scope.js";
import { outputStamp } from "../stage/output-file.js";
import type { ModelChoice, PreparedStage } from "../stage/prepare.js";
import { stageHeader } from "../stage/prompt.js";
import type { CallPlan, NodeRef } from "./protocol.js";

export interface TaskPlan {
	/** Which of the stage's models this run of it starts with (a stage stopped on a fallback continues there; a new
	 * one starts on its first model that is not skipped, the ones before it are skipped). */
	attempt: number;
	sessionFile: string;
	/** Continue the transcript at sessionFile rather than start it. */
	continued?: boolean;
	/** The transcript already ends with the stage's answer: finish without a model call. */
	finished?: { text: string; usage: Usage };
	/** The stage was in flight when the run stopped, so the resume message is for it. */
	wasInFlight?: boolean;
	/** Messages steered to the stage that never reached its transcript (a pause or crash came first). */
	undelivered?: string[];
	/** Digest of the output file when this stage's work on it began (to tell whether the stage wrote it). */
	outputStamp?: string;
	/** A prompt of a multi-turn stage: sessionFile is the session's transcript, which later prompts continue. */
	session?: boolean;
	/** The stage's own worktree, as recorded (a resume works on in it). */
	worktree?: WorktreeRecord;
}

export type Ready = PreparedStage;

/** The kind-specific fields of a stage's start event: its model for this attempt, its transcript. */
/** How much of a prompt the journal keeps for the receipts. */
const PROMPT_EXCERPT = 2_000;

function excerpt(text: string): string {
	if (text.length <= PROMPT_EXCERPT) return text;
	return `${text.slice(0, PROMPT_EXCERPT)}... [${text.length - PROMPT_EXCERPT} more characters in the transcript]`;
}

export function taskStart(stage: Ready, plan: TaskPlan | undefined) {
	const attempt = plan?.attempt ?? 0;
	return {
		model: stage.models[attempt]?.label ?? stage.model.label,
		sessionFile: plan?.sessionFile ?? "",
		...(plan?.continued ? { continued: true } : {}),
		...(plan?.outputStamp ? { outputStamp: plan.outputStamp } : {}),
		...(attempt > 0 ? { attempt } : {}),
		prompt: excerpt(stage.prompt),
		...(stage.worktree
			? { worktree: plan?.worktree ?? { root: stage.worktree.root, branch: stage.worktree.branch } }
			: {}),
	};
}

export function planTask(
	scope: Scope,
	node: NodeRef,
	stage: Ready,
	changed: string | undefined,
	options: TaskOptions,
	sessionFile?: string,
): CallPlan<TaskPlan> {
	const { services } = scope;
	const recorded = node.recorded;
	const worktree = recordedWorktree(recorded);
	const queued = recorded ? [] : services.fold.queued(node.id);
	const fresh = (rerun?: string): CallPlan<TaskPlan> => ({
		type: "run",
		...(rerun ? { rerun } : {}),
		detail: {
			// A stage starts on its first model that may be tried; the ones before it are journaled as skipped.
			attempt: firstUsable(scope, stage),
			sessionFile: sessionFile ?? attemptFile(scope, node.id, recorded),
			outputStamp: stamp(stage),
			...(sessionFile ? { session: true } : {}),
			...(worktree && stage.worktree ? { worktree } : {}),
			// Messages queued while the stage had not started reach it in its first prompt.
			...(queued.length > 0 ? { undelivered: [...queued] } : {}),
		},
	});
	if (!recorded) return fresh();
	if (changed) return fresh(changed);
	const result = recorded.result as StageResult | undefined;
	if (recorded.status === "completed" && result) {
		const output = result.outputPath;
		if (output && !existsSync(output)) return fresh(`its output file ${output} was deleted`);
		return { type: "replay", result };
	}
	const last = recorded.sessionFiles.at(-1) ?? attemptFile(scope, node.id, undefined);
	const work = inspectTranscript(last, stageHeader(services.workflow, node.id), services.settings.cwd);
	if (work.kind === "unreadable") {
		services.warn(
			`stage "${node.id}": its transcript ${last} could not be read (${work.error}); it starts over in a new one`,
		);
		return { ...fresh(`started over: its transcript could not be read (${work.error})`) };
	}
	const said = work.kind === "none" ? [] : work.said;
	const undelivered = recorded.steers.filter((steer) => !wasDelivered(steer, said));
	const carried = recordedStamp(recorded) ?? stamp(stage);
	// It continues with the model it was stopped on (the fingerprint keeps the list of models the same).
	const recordedAttempt = recorded.started.kind === "task" ? (recorded.started.attempt ?? 0) : 0;
	const attempt = recordedAttempt < stage.models.length ? recordedAttempt : 0;
	const base = {
		attempt,
		sessionFile: last,
		wasInFlight: true,
		undelivered,
		outputStamp: carried,
		...(sessionFile ? { session: true } : {}),
		...(worktree && stage.worktree ? { worktree } : {}),
	};
	// A structured result lives in a tool call, not the closing text: such a stage is continued, to submit it.
	if (work.kind === "finished" && undelivered.length === 0 && !options.schema) {
		return {
			type: "run",
			free: true,
			rerun: "its transcript already held its answer",
			detail: { ...base, continued: true, finished: work },
		};
	}
	if (work.kind !== "none") {
		return { type: "run", rerun: "continued from its transcript", detail: { ...base, continued: true } };
	}
	if (existsSync(last) && !sessionFile) {
		const restarted = fresh("started over: its transcript held no work");
		return restarted.type === "run"
			? { ...restarted, detail: { ...restarted.detail, attempt, wasInFlight: true, undelivered } }
			: restarted;
	}
	return { type: "run", rerun: "started over: its transcript held no work", detail: base };
}

export const STEER_NOTE = "Message from the user while you worked: ";

/** Whether a steer reached the transcript: as a message of its own, or as a note of a later prompt. */
function wasDelivered(steer: string, said: readonly string[]): boolean {
	const note = `${STEER_NOTE}${steer}`;
	return said.some((text) => text === steer || text.endsWith(note) || text.includes(`${note}\n\n`));
}

export const CONTINUATION =
	"The workflow run stopped while you were working on this stage and has now been resumed. " +
	"Continue the task from where you left off, then give your final answer as before.";

function stamp(stage: Ready): string | undefined {
	return stage.outputPath ? outputStamp(stage.outputPath) : undefined;
}

/** The worktree an earlier process made for the stage (absent when it never got that far). */
function recordedWorktree(recorded: NodeState | undefined): WorktreeRecord | undefined {
	const started = recorded?.started;
	if (started?.kind !== "task" || !started.worktree || !("baseCommit" in started.worktree)) return undefined;
	return started.worktree;
}

function recordedStamp(recorded: NodeState): string | undefined {
	return recorded.started.kind === "task" ? recorded.started.outputStamp : undefined;
}

/** Transcript path of a stage's next attempt: `<id>.jsonl`, then `<id>~2.jsonl`, ... (never reused). Ids are
 * unique and their file names too (characters unsafe in a name are escaped, `~` included). A node never recorded
 * has no transcript yet: a stage is journaled as started before its session writes one. */
export function attemptFile(scope: Scope, id: string, recorded: NodeState | undefined): string {
	const base = encodeURIComponent(id).replace(
		/[!'()*~]/g,
		(char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
	);
	if (!recorded) return join(scope.services.paths.stagesDir, `${base}.jsonl`);
	let attempt = recorded.sessionFiles.length + 1;
	let file: string;
	do {
		file = join(scope.services.paths.stagesDir, attempt === 1 ? `${base}.jsonl` : `${base}~${attempt}.jsonl`);
		attempt++;
	} while (existsSync(file));
	return file;
}

/** Why a model is not tried: no credentials, or its provider refused earlier in this run. */
export function skipReason(scope: Scope, choice: ModelChoice): string | undefined {
	if (choice.skip) return choice.skip;
	const provider = choice.model?.model.provider;
	const refusal = provider ? scope.services.breakers.refusal(provider) : undefined;
	return refusal ? `its provider "${provider}" refused earlier in this run (${refusal})` : undefined;
}

/** The first of a stage's models that may be tried (0 when none may: the attempts then say why). */
function firstUsable(scope: Scope, stage: Ready): number {
	const index = stage.models.findIndex((choice) => !skipReason(scope, choice));
	return Math.max(0, index);
}
