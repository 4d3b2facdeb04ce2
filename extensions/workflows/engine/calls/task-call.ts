// ctx.task as a node of the call protocol: a model stage in its own Pi session. Its plan follows the replay
// rules: a completed record with the same definition and inputs is returned as it is (unless its output file
// is gone), an unfinished one continues its own transcript when that holds work, and anything else starts a
// new transcript. Running it means one Pi session under a run-wide slot, then the output file.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { StageError } from "../../authoring/stage-error.js";
import type { StageResult, TaskOptions, Usage } from "../../authoring/types.js";
import { zeroUsage } from "../../authoring/usage.js";
import { resolveModelSpec } from "../../stages/model-spec.js";
import { runStageSession, type StageSessionOutcome } from "../../stages/stage-session.js";
import { inspectTranscript } from "../../stages/transcript.js";
import type { NodeState } from "../../store/run-fold.js";
import { CallScope } from "../call-identity.js";
import type { Scope } from "../scope.js";
import { outputStamp, writeStageOutput } from "../stage/output-file.js";
import { type PreparedStage, prepareStage } from "../stage/prepare.js";
import { stageHeader } from "../stage/prompt.js";
import { type CallPlan, callNode, type NodeCall, type NodeOutcome, type NodeRef } from "./protocol.js";
import { stageDialogs } from "./stage-dialogs.js";

interface TaskPlan {
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
}

type Ready = PreparedStage;

export async function runTask(scope: Scope, name: string, options: TaskOptions): Promise<StageResult> {
	const stageName = typeof name === "string" && name.trim() ? name : "(unnamed)";
	return (await callNode(scope, taskCall(scope, stageName, name, options))) as StageResult;
}

function taskCall(
	scope: Scope,
	stageName: string,
	rawName: unknown,
	options: TaskOptions,
): NodeCall<"task", Ready, TaskPlan> {
	const { services } = scope;
	return {
		kind: "task",
		name: stageName,
		usesSlot: true,
		prepare: (node) => {
			const prepared = prepareStage(scope, node.id, rawName, options, node.parents);
			if (prepared.ok) return prepared;
			const model = (typeof options === "object" && options?.model) || services.settings.defaultModel || "";
			return { ...prepared, start: { model, sessionFile: attemptFile(scope, node.id, node.recorded) } };
		},
		plan: (node, stage, changed) => planTask(scope, node, stage, changed),
		start: (_node, stage, plan) => ({
			model: stage.model.label,
			sessionFile: plan?.sessionFile ?? "",
			...(plan?.continued ? { continued: true } : {}),
			...(plan?.outputStamp ? { outputStamp: plan.outputStamp } : {}),
		}),
		run: (node, stage, plan, signal) => runTaskSession(scope, node, stage, plan, options, signal),
		deliver: (node, result, outcome) => {
			if (outcome && outcome.status !== "completed") {
				throw new StageError(services.workflow, node.id, outcome.error ?? "failed", outcome.status !== "failed");
			}
			const stage = result as StageResult;
			services.completed.push(stage);
			return stage;
		},
	};
}

function planTask(scope: Scope, node: NodeRef, stage: Ready, changed: string | undefined): CallPlan<TaskPlan> {
	const { services } = scope;
	const recorded = node.recorded;
	const fresh = (rerun?: string): CallPlan<TaskPlan> => ({
		type: "run",
		...(rerun ? { rerun } : {}),
		detail: { sessionFile: attemptFile(scope, node.id, recorded), outputStamp: stamp(stage) },
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
	const base = { sessionFile: last, wasInFlight: true, undelivered, outputStamp: carried };
	if (work.kind === "finished" && undelivered.length === 0) {
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
	if (existsSync(last)) {
		const restarted = fresh("started over: its transcript held no work");
		return restarted.type === "run"
			? { ...restarted, detail: { ...restarted.detail, wasInFlight: true, undelivered } }
			: restarted;
	}
	return { type: "run", rerun: "started over: its transcript held no work", detail: base };
}

async function runTaskSession(
	scope: Scope,
	node: NodeRef,
	stage: Ready,
	plan: TaskPlan,
	options: TaskOptions,
	signal: AbortSignal,
): Promise<NodeOutcome> {
	const { services } = scope;
	const startedAt = Date.now();
	const outcome: StageSessionOutcome = plan.finished
		? { ok: true, text: plan.finished.text, usage: plan.finished.usage }
		: await runSession(scope, node, stage, plan, options, signal);
	const durationMs = Date.now() - startedAt;
	if (!outcome.ok) {
		const error = outcome.error ?? "failed";
		if (outcome.aborted && services.stopping() === "pause") {
			return { status: "interrupted", error: "paused", usage: outcome.usage, durationMs };
		}
		return { status: outcome.aborted ? "cancelled" : "failed", error, usage: outcome.usage, durationMs };
	}
	if (stage.outputPath) {
		const roots = { cwd: services.settings.cwd, paths: services.paths };
		const written = writeStageOutput(stage.outputPath, outcome.text, roots, plan.outputStamp);
		if (!written.ok) return { status: "failed", error: written.error, usage: outcome.usage, durationMs };
	}
	const result: StageResult = {
		name: node.name,
		id: node.id,
		text:
			options.outputMode === "file-only"
				? `[file-only output of stage "${node.id}": ${stage.outputPath}]`
				: outcome.text,
		sessionFile: plan.sessionFile,
		...(stage.outputPath ? { outputPath: stage.outputPath } : {}),
		model: stage.model.label,
		usage: outcome.usage,
		durationMs,
	};
	// The result carries its usage and duration; the event does not repeat them.
	return { status: "completed", result };
}

function runSession(
	scope: Scope,
	node: NodeRef,
	stage: Ready,
	plan: TaskPlan,
	options: TaskOptions,
	signal: AbortSignal,
): Promise<StageSessionOutcome> {
	const { services } = scope;
	const settings = services.settings;
	// Resolved afresh: a host may re-register providers (Pi on /reload) after the cached resolution.
	const model = resolveModelSpec(stage.model.label, settings.modelRegistry());
	if (!model.ok) return Promise.resolve({ ok: false, text: "", error: model.error, usage: zeroUsage() });
	const message = plan.wasInFlight ? services.resumeMessage : undefined;
	const notes = [
		...(plan.undelivered ?? []).map((steer) => `${STEER_NOTE}${steer}`),
		...(message ? [`Message from the user on resuming the run: ${message}`] : []),
	];
	const note = notes.map((line) => `\n\n${line}`).join("");
	return runStageSession({
		cwd: settings.cwd,
		agentDir: settings.agentDir,
		sessionFile: plan.sessionFile,
		forkFrom: stage.forkSource?.sessionFile,
		model: model.value,
		tools: options.tools,
		appendSystemPrompt: options.systemPrompt,
		prompt: `${stage.prompt}${note}`,
		promptMarker: stageHeader(services.workflow, node.id),
		...(plan.continued ? { continueWith: `${CONTINUATION}${note}` } : {}),
		modelRegistry: settings.modelRegistry(),
		resources: settings.stageResources,
		retry: settings.retry,
		// Dialogs of the stage's extensions become prompts of the run, with identities under the stage's own.
		uiContext: stageDialogs(scope, node.id, new CallScope(`${node.key}/`)),
		signal,
		onActivity: (activity) => services.activity(node.id, activity),
		onSteerable: (steer) => {
			if (steer) services.steerable.set(node.id, steer);
			else services.steerable.delete(node.id);
		},
		onWarning: (message) => services.warn(`stage "${node.id}": ${message}`),
	}).catch((error: unknown) => ({
		ok: false as const,
		text: "",
		error: `could not start the Pi session: ${error instanceof Error ? error.message : String(error)}`,
		usage: zeroUsage(),
		aborted: false,
	}));
}

const STEER_NOTE = "Message from the user while you worked: ";

/** Whether a steer reached the transcript: as a message of its own, or as a note of a later prompt. */
function wasDelivered(steer: string, said: readonly string[]): boolean {
	const note = `${STEER_NOTE}${steer}`;
	return said.some((text) => text === steer || text.endsWith(note) || text.includes(`${note}\n\n`));
}

const CONTINUATION =
	"The workflow run stopped while you were working on this stage and has now been resumed. " +
	"Continue the task from where you left off, then give your final answer as before.";

function stamp(stage: Ready): string | undefined {
	return stage.outputPath ? outputStamp(stage.outputPath) : undefined;
}

function recordedStamp(recorded: NodeState): string | undefined {
	return recorded.started.kind === "task" ? recorded.started.outputStamp : undefined;
}

/** Transcript path of a stage's next attempt: `<id>.jsonl`, then `<id>~2.jsonl`, ... (never reused). Ids are
 * unique and their file names too (characters unsafe in a name are escaped, `~` included). A node never recorded
 * has no transcript yet: a stage is journaled as started before its session writes one. */
function attemptFile(scope: Scope, id: string, recorded: NodeState | undefined): string {
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
