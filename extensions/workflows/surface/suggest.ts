// "Did you mean": the known names closest to a mistyped one (edit distance, then shared prefix).

export function closestNames(wanted: string, known: readonly string[], max = 3): string[] {
	return known
		.map((name) => ({ name, distance: editDistance(wanted, name) }))
		.filter(({ name, distance }) => distance <= Math.max(2, Math.floor(name.length / 3)) || name.includes(wanted))
		.sort((a, b) => a.distance - b.distance)
		.slice(0, max)
		.map(({ name }) => name);
}

function editDistance(a: string, b: string): number {
	let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
	for (let i = 1; i <= a.length; i++) {
		const current = [i];
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
		}
		previous = current;
	}
	return previous[b.length] ?? 0;
}
