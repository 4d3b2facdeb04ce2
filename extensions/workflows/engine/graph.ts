// Infers the stage graph from control flow. A frontier holds the stages that settled and were not yet
// consumed; a stage that starts takes them all as its parents. Parallel branches each get a frontier
// seeded with the same snapshot, and their leftovers flow back when the group ends.

export class Frontier {
	private settled: string[];

	constructor(seed: readonly string[] = []) {
		this.settled = [...seed];
	}

	/** Parents for a stage starting now; the frontier is consumed. */
	take(): string[] {
		const parents = this.settled;
		this.settled = [];
		return parents;
	}

	settle(...stageIds: string[]): void {
		for (const id of stageIds) if (!this.settled.includes(id)) this.settled.push(id);
	}
}

/** Gives each stage a unique id: its name, then `name-2`, `name-3` for later occurrences. */
export class StageIds {
	private readonly used: Set<string>;
	private readonly occurrences = new Map<string, number>();

	/** `reserved`: ids an earlier process gave out (a resumed run), never handed out again. */
	constructor(reserved: Iterable<string> = []) {
		this.used = new Set(reserved);
	}

	next(name: string): string {
		let occurrence = this.occurrences.get(name) ?? 0;
		let id: string;
		do {
			occurrence++;
			id = occurrence === 1 ? name : `${name}-${occurrence}`;
		} while (this.used.has(id));
		this.occurrences.set(name, occurrence);
		this.used.add(id);
		return id;
	}
}
