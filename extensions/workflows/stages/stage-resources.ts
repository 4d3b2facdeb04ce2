// What a stage session loads besides its prompt: the user's and project's extensions, skills and
// context files (as a normal Pi session would), but never pi-workflows itself, so a stage cannot
// start workflows. Stages use in-memory settings, so installed packages are not resolved or fetched.

import { realpathSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { DefaultResourceLoader, type ResourceLoader, type SettingsManager } from "@mariozechner/pi-coding-agent";

/** Which of the user's resources stages load (all by default). */
export interface StageResourceOptions {
	extensions?: boolean;
	skills?: boolean;
	contextFiles?: boolean;
}

/** Root of the pi-workflows package (three levels above this file's folder). */
const PACKAGE_ROOT = realPath(resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", ".."));

export async function createStageResourceLoader(options: {
	cwd: string;
	agentDir: string;
	settingsManager: SettingsManager;
	resources: StageResourceOptions;
	appendSystemPrompt?: string;
}): Promise<ResourceLoader> {
	const { resources } = options;
	const loader = new DefaultResourceLoader({
		cwd: options.cwd,
		agentDir: options.agentDir,
		settingsManager: options.settingsManager,
		noExtensions: resources.extensions === false,
		noSkills: resources.skills === false,
		noContextFiles: resources.contextFiles === false,
		noPromptTemplates: true,
		noThemes: true,
		appendSystemPrompt: options.appendSystemPrompt ? [options.appendSystemPrompt] : undefined,
		extensionsOverride: (base) => ({
			...base,
			extensions: base.extensions.filter((extension) => !isInsidePackage(extension.resolvedPath || extension.path)),
		}),
	});
	await loader.reload();
	return loader;
}

function isInsidePackage(path: string): boolean {
	const real = realPath(path);
	return real === PACKAGE_ROOT || real.startsWith(PACKAGE_ROOT + sep);
}

function realPath(path: string): string {
	try {
		return realpathSync(path);
	} catch {
		return path;
	}
}
