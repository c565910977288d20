/**
 * Exact linear assignment for the small dense problems of grid refinement
 * (a window of up to a few hundred cells): the shortest-augmenting-path
 * Hungarian method with row and column potentials (Kuhn–Munkres in the
 * Jonker–Volgenant formulation), O(rows²·cols), rectangular (rows ≤ cols: every
 * point gets a cell, some cells stay empty). Buffers are allocated once per
 * solver and reused across the thousands of windows of one grid.
 */
export class LapSolver {
  private capRows = 0;
  private capCols = 0;
  private u = new Float64Array(0);
  private v = new Float64Array(0);
  private minv = new Float64Array(0);
  private p = new Int32Array(0);
  private way = new Int32Array(0);
  private used = new Uint8Array(0);
  /** Column of each row after `solve` (valid for the first `rows` entries). */
  rowToCol = new Int32Array(0);

  private ensure(rows: number, cols: number): void {
    if (rows <= this.capRows && cols <= this.capCols) return;
    this.capRows = Math.max(rows, this.capRows);
    this.capCols = Math.max(cols, this.capCols);
    this.u = new Float64Array(this.capRows + 1);
    this.v = new Float64Array(this.capCols + 1);
    this.minv = new Float64Array(this.capCols + 1);
    this.p = new Int32Array(this.capCols + 1);
    this.way = new Int32Array(this.capCols + 1);
    this.used = new Uint8Array(this.capCols + 1);
    this.rowToCol = new Int32Array(this.capRows);
  }

  /**
   * Minimum-cost assignment of `rows` rows to distinct columns of the row-major
   * `cost` (rows × cols, rows ≤ cols). Returns the total cost; the assignment is
   * in `rowToCol`.
   */
  solve(cost: Float64Array, rows: number, cols: number): number {
    if (rows > cols) throw new RangeError(`assignment needs rows ≤ cols, got ${rows} × ${cols}`);
    this.ensure(rows, cols);
    const { u, v, minv, p, way, used } = this;
    u.fill(0, 0, rows + 1);
    v.fill(0, 0, cols + 1);
    p.fill(0, 0, cols + 1);
    for (let i = 1; i <= rows; i++) {
      p[0] = i;
      let j0 = 0;
      minv.fill(Infinity, 0, cols + 1);
      used.fill(0, 0, cols + 1);
      do {
        used[j0] = 1;
        const i0 = p[j0];
        const base = (i0 - 1) * cols - 1;
        const ui0 = u[i0];
        let delta = Infinity;
        let j1 = 0;
        for (let j = 1; j <= cols; j++) {
          if (used[j]) continue;
          const cur = cost[base + j] - ui0 - v[j];
          if (cur < minv[j]) {
            minv[j] = cur;
            way[j] = j0;
          }
          if (minv[j] < delta) {
            delta = minv[j];
            j1 = j;
          }
        }
        for (let j = 0; j <= cols; j++) {
          if (used[j]) {
            u[p[j]] += delta;
            v[j] -= delta;
          } else minv[j] -= delta;
        }
        j0 = j1;
      } while (p[j0] !== 0);
      do {
        const j1 = way[j0];
        p[j0] = p[j1];
        j0 = j1;
      } while (j0 !== 0);
    }
    let total = 0;
    for (let j = 1; j <= cols; j++) {
      if (p[j] !== 0) {
        this.rowToCol[p[j] - 1] = j - 1;
        total += cost[(p[j] - 1) * cols + j - 1];
      }
    }
    return total;
  }
}
