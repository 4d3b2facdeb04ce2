// What a run works with, stated once: the options a caller gives (RunSettingsInput) and the settings with
// their defaults applied (RunSettings), which the driver, the calls and the stage sessions all read.

import type { ExtensionUIContext, ModelRegistry } from "@mariozechner/pi-coding-agent";
import { getAgentDir } from "@mariozechner/pi-coding-agent";
import type { StageResourceOptions } from "../stages/stage-resources.js";
import type { StageRetrySettings } from "../stages/stage-session.js";

export const DEFAULT_CONCURRENCY = 4;

/** How deep child workflows may nest: the run's workflow, then up to 4 levels of children. */
export const DEFAULT_MAX_WORKFLOW_DEPTH = 4;

export interface RunSettingsInput {
	/** Project directory: stages work here and the run directory is created under it. */
	cwd: string;
	/** The host's model registry (providers, models.json, credentials), or a getter for the current one:
	 * a host that replaces its registry mid-run (Pi on /new or /reload) hands later stages the new one. */
	modelRegistry: ModelRegistry | (() => ModelRegistry);
	/** Model for stages that name none, as `provider/id[:level]`. */
	defaultModel?: string;
	/** Pi's agent directory for the user's resources (default: Pi's, honouring PI_CODING_AGENT_DIR). */
	agentDir?: string;
	/** Run-wide limit on stage sessions in flight (default 4). */
	concurrency?: number;
	stageResources?: StageResourceOptions;
	/** Pi's retries of transient provider errors in stages (default: on, Pi's defaults). */
	retry?: StageRetrySettings;
	/** Where dialogs raised inside stages go. */
	uiContext?: ExtensionUIContext;
	/** "wait" (default): a question (ctx.ui.*) waits for an answer; "stop": the run stops there with status
	 * awaiting_input (headless use), and answering it later continues the run. */
	inputMode?: "wait" | "stop";
	/** How long a stop waits for a provider that ignores it before its stage is abandoned (default 5 s). */
	abandonAfterMs?: number;
	/** How deep child workflows (ctx.workflow) may nest (default 4). */
	maxWorkflowDepth?: number;
	/** Keep the run's git worktrees when it ends (they are removed when it completes, is skipped or cancelled). */
	keepWorktrees?: boolean;
	/** A dry run (engine/dry-run.ts): nothing outside the run's own folder is touched. */
	dryRun?: DryRunSettings;
}

/** What a dry run still does: ctx.tool functions run only when allowed (by name, or all). No git worktree is made
 * (a stage's "worktree" is an empty folder of the run), no change is applied, and no output file is written
 * outside the run's folder. */
export interface DryRunSettings {
	allowTools: boolean | readonly string[];
}

export interface RunSettings {
	cwd: string;
	modelRegistry: () => ModelRegistry;
	defaultModel?: string;
	agentDir: string;
	concurrency: number;
	stageResources: StageResourceOptions;
	retry?: StageRetrySettings;
	uiContext?: ExtensionUIContext;
	inputMode: "wait" | "stop";
	abandonAfterMs?: number;
	maxWorkflowDepth: number;
	keepWorktrees: boolean;
	dryRun?: DryRunSettings;
}

export function runSettings(input: RunSettingsInput): RunSettings {
	const registry = input.modelRegistry;
	return {
		cwd: input.cwd,
		modelRegistry: typeof registry === "function" ? registry : () => registry,
		...(input.defaultModel ? { defaultModel: input.defaultModel } : {}),
		agentDir: input.agentDir ?? getAgentDir(),
		concurrency: input.concurrency ?? DEFAULT_CONCURRENCY,
		stageResources: input.stageResources ?? {},
		...(input.retry ? { retry: input.retry } : {}),
		...(input.uiContext ? { uiContext: input.uiContext } : {}),
		inputMode: input.inputMode ?? "wait",
		...(input.abandonAfterMs !== undefined ? { abandonAfterMs: input.abandonAfterMs } : {}),
		maxWorkflowDepth: input.maxWorkflowDepth ?? DEFAULT_MAX_WORKFLOW_DEPTH,
		keepWorktrees: input.keepWorktrees ?? false,
		...(input.dryRun ? { dryRun: input.dryRun } : {}),
	};
}
