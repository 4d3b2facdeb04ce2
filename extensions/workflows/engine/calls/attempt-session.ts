// One attempt of a stage: its Pi session with this attempt's model, in the stage's place, told what it missed (the
// steers that never reached it, the user's message on resume), its dialogs turned into questions of the run, its
// activity feeding the watchdogs and the live view, and a steering handle while it runs.

import { existsSync } from "node:fs";
import type { TaskOptions } from "../../authoring/types.js";
import { zeroUsage } from "../../authoring/usage.js";
import type { FailureKind } from "../../stages/failure-kind.js";
import { resolveModelSpec } from "../../stages/model-spec.js";
import { runStageSession, type StageSessionOutcome } from "../../stages/stage-session.js";
import { runsRoot } from "../../store/run-directory.js";
import { CallScope } from "../call-identity.js";
import type { Scope } from "../scope.js";
import type { ModelChoice } from "../stage/prepare.js";
import { stageHeader } from "../stage/prompt.js";
import type { StageGuard } from "../stage/stage-guard.js";
import { type StructuredResult, SUBMIT_TOOL } from "../stage/structured-result.js";
import { inWorktree } from "../worktrees.js";
import type { NodeRef } from "./protocol.js";
import { stageDialogs } from "./stage-dialogs.js";
import type { StagePlace } from "./stage-place.js";
import { CONTINUATION, type Ready, STEER_NOTE, type TaskPlan } from "./task-plan.js";

export interface AttemptRun {
	plan: TaskPlan;
	place: StagePlace;
	attempt: number;
	options: TaskOptions;
	guard: StageGuard;
	structured: StructuredResult | undefined;
	onSteerable(steer: ((message: string) => Promise<void>) | undefined): void;
}

export function runSession(
	scope: Scope,
	node: NodeRef,
	stage: Ready,
	choice: ModelChoice,
	run: AttemptRun,
): Promise<StageSessionOutcome> {
	const { services } = scope;
	const { plan, options, guard, structured } = run;
	const settings = services.settings;
	// Resolved afresh: a host may re-register providers (Pi on /reload) after the cached resolution.
	const model = resolveModelSpec(choice.label, settings.modelRegistry());
	if (!model.ok) {
		const kind: FailureKind = model.missingCredentials ? "auth" : "unknown-model";
		return Promise.resolve({ ok: false, text: "", error: model.error, kind, usage: zeroUsage() });
	}
	// Notes for the model's first prompt: a resumed stage gets the steers it missed and the user's message.
	const message = plan.wasInFlight && run.attempt === plan.attempt ? services.resumeMessage : undefined;
	const notes = [
		...(run.attempt === plan.attempt ? (plan.undelivered ?? []) : []).map((steer) => `${STEER_NOTE}${steer}`),
		...(message ? [`Message from the user on resuming the run: ${message}`] : []),
	];
	const note = notes.map((line) => `\n\n${line}`).join("");
	const tools = options.tools && structured ? [...options.tools, SUBMIT_TOOL] : options.tools;
	const { place } = run;
	// Everything the stage is told about where it is names its worktree, never the user's checkout.
	const runs = runsRoot(settings.cwd);
	const prompt = place.worktree ? inWorktree(stage.prompt, place.worktree, runs) : stage.prompt;
	// A later attempt's dialogs have identities of their own, so none replays an answer given to another model.
	const dialogKey = run.attempt === 0 ? `${node.key}/` : `${node.key}/attempt${run.attempt + 1}/`;
	return runStageSession({
		cwd: place.cwd,
		...(place.writeRoots ? { writeRoots: place.writeRoots } : {}),
		...(place.worktree ? { contextRoot: place.worktree.root } : {}),
		agentDir: settings.agentDir,
		sessionFile: plan.sessionFile,
		forkFrom: stage.forkSource?.sessionFile ?? stage.forkFile,
		model: model.value,
		tools,
		appendSystemPrompt: options.systemPrompt,
		prompt: `${prompt}${note}`,
		promptMarker: stageHeader(services.workflow, node.id),
		...(plan.continued
			? { continueWith: `${CONTINUATION}${note}` }
			: plan.session && existsSync(plan.sessionFile)
				? // A later prompt of a multi-turn stage continues the session's conversation.
					{ continueWith: `${prompt}${note}` }
				: {}),
		modelRegistry: settings.modelRegistry(),
		resources: settings.stageResources,
		retry: settings.retry,
		// Dialogs of the stage's extensions become prompts of the run, with identities under the stage's own.
		uiContext: stageDialogs(scope, node.id, new CallScope(dialogKey), () => guard.hold()),
		signal: guard.signal,
		...(structured ? { customTools: [structured.tool], followUp: () => structured.followUp() } : {}),
		...(settings.abandonAfterMs !== undefined ? { abandonAfterMs: settings.abandonAfterMs } : {}),
		onActivity: (activity) => {
			guard.observe(activity);
			if (activity.type === "tool_end" && activity.tool === SUBMIT_TOOL && activity.isError) {
				structured?.rejected(activity.error);
			}
			// The widget and status lines show tool calls; output and turns only feed the watchdogs.
			if (activity.type === "tool_start" || activity.type === "tool_end") services.activity(node.id, activity);
		},
		onSteerable: (steer) => {
			run.onSteerable(steer);
			if (steer) {
				services.steerable.set(node.id, steer);
				const late = services.lateSteers.get(node.id);
				services.lateSteers.delete(node.id);
				for (const message of late ?? []) {
					steer(message).catch((error: unknown) => {
						services.warn(`stage "${node.id}": a steering message was not delivered: ${describe(error)}`);
					});
				}
			} else services.steerable.delete(node.id);
		},
		onWarning: (text) => services.warn(`stage "${node.id}": ${text}`),
	}).catch((error: unknown) => ({
		ok: false as const,
		text: "",
		error: `could not start the Pi session: ${describe(error)}`,
		usage: zeroUsage(),
		aborted: false,
	}));
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
