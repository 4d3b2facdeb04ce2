// Runs one ctx.task call: gives it its identity and stage id, prepares it, and then either returns the
// result recorded by an earlier process (replay), continues its interrupted transcript, or runs it as
// a Pi session under the run-wide limit, writing the output file and journaling start and end.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { StageError } from "../authoring/stage-error.js";
import type { StageResult, TaskOptions, Usage } from "../authoring/types.js";
import { zeroUsage } from "../authoring/usage.js";
import { resolveModelSpec } from "../stages/model-spec.js";
import { runStageSession, type StageSessionOutcome } from "../stages/stage-session.js";
import { inspectTranscript } from "../stages/transcript.js";
import { checkBudget } from "./budget.js";
import { CallScope } from "./call-identity.js";
import { stageDialogs } from "./prompt-call.js";
import type { RecordedCall } from "./replay.js";
import type { RunServices, Scope } from "./scope.js";
import { type PreparedStage, prepareStage } from "./stage-prepare.js";
import { stageHeader } from "./stage-prompt.js";

/** How a stage goes ahead: its recorded result, or a session (new, restarted or continued). */
type StagePlan = { type: "replay"; result: StageResult } | SessionPlan;

interface SessionPlan {
	type: "run";
	sessionFile: string;
	/** Continue the transcript at sessionFile rather than start it. */
	continued?: boolean;
	/** The transcript already ends with the stage's answer: finish without a model call. */
	finished?: { text: string; usage: Usage };
	/** Why a recorded stage runs again, for the report. */
	rerun?: string;
	/** The stage was in flight when the run stopped, so the resume message is for it. */
	wasInFlight?: boolean;
	/** Messages steered to the stage that never reached its transcript (a pause or crash came first). */
	undelivered?: string[];
}

export async function runStage(scope: Scope, name: string, options: TaskOptions): Promise<StageResult> {
	const { services } = scope;
	const stageName = typeof name === "string" && name.trim() ? name : "(unnamed)";
	const key = scope.calls.next("task", stageName);
	const recorded = services.replay.get(key);
	const id = recorded?.kind === "task" ? recorded.stageId : services.ids.next(stageName);
	const parents = scope.frontier.take();
	const fail = (reason: string, stopped = false) => new StageError(services.workflow, id, reason, stopped);
	if (scope.signal.aborted) throw fail("not started: the run was stopped", true);
	const settle = () => scope.frontier.settle(id);
	const started = (fingerprint: string, model: string, sessionFile: string, plan?: StagePlan) =>
		services.record(
			{
				type: "stage_started",
				at: now(),
				stageId: id,
				key,
				name: stageName,
				parents,
				fingerprint,
				model,
				sessionFile,
				...(plan?.type === "run" && plan.rerun ? { rerun: plan.rerun } : {}),
				...(plan?.type === "run" && plan.continued ? { continued: true } : {}),
			},
			true,
		);

	const prepared = prepareStage(scope, id, name, options, parents);
	if (!prepared.ok) {
		started("", options?.model ?? services.defaultModel ?? "", attemptFile(services, id, recorded));
		services.record(
			{ type: "stage_failed", at: now(), stageId: id, error: prepared.error, usage: zeroUsage(), durationMs: 0 },
			true,
		);
		settle();
		throw fail(prepared.error);
	}
	const stage = prepared.value;
	const plan = planStage(services, id, recorded, stage);
	if (plan.type === "replay") {
		services.record({ type: "stage_replayed", at: now(), stageId: id });
		services.completed.push(plan.result);
		settle();
		return plan.result;
	}
	if (!plan.finished) checkBudget(services.budget, services.spent(), id);

	return services.limiter(async () => {
		if (scope.signal.aborted) {
			settle();
			throw fail("not started: the run was stopped", true);
		}
		started(stage.fingerprint, stage.model.label, plan.sessionFile, plan);
		const startedAt = Date.now();
		const outcome: StageSessionOutcome = plan.finished
			? { ok: true, text: plan.finished.text, usage: plan.finished.usage }
			: await runSession(scope, id, key, options, stage, plan);
		const durationMs = Date.now() - startedAt;
		if (!outcome.ok) {
			const error = outcome.error ?? "failed";
			const stopped = outcome.aborted === true;
			const at = now();
			if (stopped && services.stopping() === "pause") {
				services.record(
					{ type: "stage_interrupted", at, stageId: id, reason: "paused", usage: outcome.usage, durationMs },
					true,
				);
			} else {
				const failed = { type: "stage_failed", at, stageId: id, error, usage: outcome.usage, durationMs } as const;
				services.record(stopped ? { ...failed, cancelled: true } : failed, true);
			}
			settle();
			throw fail(error, stopped);
		}
		if (stage.outputPath) {
			mkdirSync(dirname(stage.outputPath), { recursive: true });
			writeFileSync(stage.outputPath, outcome.text);
		}
		const fileOnly = options.outputMode === "file-only";
		const result: StageResult = {
			name: stageName,
			id,
			text: fileOnly ? `[file-only output of stage "${id}": ${stage.outputPath}]` : outcome.text,
			sessionFile: plan.sessionFile,
			...(stage.outputPath ? { outputPath: stage.outputPath } : {}),
			model: stage.model.label,
			usage: outcome.usage,
			durationMs,
		};
		services.record({ type: "stage_completed", at: now(), stageId: id, result }, true);
		services.completed.push(result);
		settle();
		return result;
	});
}

function runSession(
	scope: Scope,
	id: string,
	key: string,
	options: TaskOptions,
	stage: PreparedStage,
	plan: SessionPlan,
): Promise<StageSessionOutcome> {
	const { services } = scope;
	// Resolved afresh: a host may re-register providers (Pi on /reload) after the cached resolution.
	const model = resolveModelSpec(stage.model.label, services.modelRegistry());
	if (!model.ok) return Promise.resolve({ ok: false, text: "", error: model.error, usage: zeroUsage() });
	const message = plan.wasInFlight ? services.resumeMessage : undefined;
	const notes = [
		...(plan.undelivered ?? []).map((steer) => `Message from the user while you worked: ${steer}`),
		...(message ? [`Message from the user on resuming the run: ${message}`] : []),
	];
	const note = notes.map((line) => `\n\n${line}`).join("");
	return runStageSession({
		cwd: services.cwd,
		agentDir: services.agentDir,
		sessionFile: plan.sessionFile,
		forkFrom: stage.forkFrom,
		model: model.value,
		tools: options.tools,
		appendSystemPrompt: options.systemPrompt,
		prompt: `${stage.prompt}${note}`,
		promptMarker: stageHeader(services.workflow, id),
		...(plan.continued ? { continueWith: `${CONTINUATION}${note}` } : {}),
		modelRegistry: services.modelRegistry(),
		resources: services.stageResources,
		retry: services.retry,
		// Dialogs of the stage's extensions become prompts of the run, with identities under the stage's own.
		uiContext: stageDialogs(scope, id, new CallScope(`${key}/`)),
		signal: scope.signal,
		onActivity: (activity) => services.activity(id, activity),
		onSteerable: (steer) => {
			if (steer) services.steerable.set(id, steer);
			else services.steerable.delete(id);
		},
	}).catch((error: unknown) => ({
		ok: false as const,
		text: "",
		error: `could not start the Pi session: ${error instanceof Error ? error.message : String(error)}`,
		usage: zeroUsage(),
		aborted: false,
	}));
}

const CONTINUATION =
	"The workflow run stopped while you were working on this stage and has now been resumed. " +
	"Continue the task from where you left off, then give your final answer as before.";

/** Replay rules: a recorded call with the same fingerprint returns its result (if its output file is
 * still there); an unfinished one continues its transcript when that holds work; anything else runs. */
function planStage(
	services: RunServices,
	id: string,
	recorded: RecordedCall | undefined,
	stage: PreparedStage,
): StagePlan {
	if (recorded?.kind !== "task") return { type: "run", sessionFile: attemptFile(services, id, undefined) };
	const fresh = (rerun: string): SessionPlan => ({
		type: "run",
		sessionFile: attemptFile(services, id, recorded),
		rerun,
	});
	if (recorded.fingerprint !== stage.fingerprint) {
		return fresh(`its definition changed (fingerprint ${recorded.fingerprint || "none"} -> ${stage.fingerprint})`);
	}
	if (recorded.state === "completed" && recorded.result) {
		const output = recorded.result.outputPath;
		if (output && !existsSync(output)) return fresh(`its output file ${output} was deleted`);
		return { type: "replay", result: recorded.result };
	}
	const last = recorded.sessionFiles.at(-1) ?? attemptFile(services, id, undefined);
	const work = inspectTranscript(last, stageHeader(services.workflow, id), services.cwd);
	const said = work.kind === "none" ? [] : work.said;
	const undelivered = recorded.steers.filter((steer) => !said.some((text) => text.includes(steer)));
	const base = { type: "run", sessionFile: last, wasInFlight: true, undelivered } as const;
	if (work.kind === "finished" && undelivered.length === 0) {
		return { ...base, continued: true, finished: work, rerun: "its transcript already held its answer" };
	}
	if (work.kind !== "none") return { ...base, continued: true, rerun: "continued from its transcript" };
	if (existsSync(last))
		return { ...fresh("started over: its transcript held no work"), wasInFlight: true, undelivered };
	return { ...base, rerun: "started over: its transcript held no work" };
}

/** Transcript path of a stage's next attempt: `<id>.jsonl`, then `<id>~2.jsonl`, ... (never reused). */
function attemptFile(services: RunServices, id: string, recorded: RecordedCall | undefined): string {
	const base = id.replace(/[^\w.-]/g, "_");
	let attempt = (recorded?.sessionFiles.length ?? 0) + 1;
	let file: string;
	do {
		file = join(services.paths.stagesDir, attempt === 1 ? `${base}.jsonl` : `${base}~${attempt}.jsonl`);
		attempt++;
	} while (existsSync(file));
	return file;
}

function now(): string {
	return new Date().toISOString();
}
