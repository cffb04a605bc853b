/**
 * A small SVG line chart with up to two series on their own axes (left and right), enough for a price and a yield, or
 * utilization and a coupon. No chart library: the app stays light, and the markup is testable.
 */
export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
  format: (y: number) => string;
  /** Draw as steps (a coupon changes at a point in time) rather than straight segments. */
  step?: boolean;
}

interface Props {
  title: string;
  left: Series;
  right?: Series;
  formatX: (x: number) => string;
  testId?: string;
}

const W = 640;
const H = 220;
const PAD = { top: 16, right: 64, bottom: 28, left: 64 };

function extent(values: number[]): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.01 || 1;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

function path(s: Series, sx: (x: number) => number, sy: (y: number) => number): string {
  return s.points
    .map((p, i) => {
      const x = sx(p.x).toFixed(1);
      const y = sy(p.y).toFixed(1);
      if (i === 0) return `M${x},${y}`;
      return s.step ? `H${x}V${y}` : `L${x},${y}`;
    })
    .join("");
}

export function LineChart({ title, left, right, formatX, testId }: Props) {
  const all = [...left.points, ...(right?.points ?? [])];
  if (left.points.length < 2) {
    return (
      <figure className="chart" data-testid={testId}>
        <figcaption>{title}</figcaption>
        <p className="muted">Not enough history yet ({left.points.length} point(s)).</p>
      </figure>
    );
  }
  const [x0, x1] = extent(all.map((p) => p.x));
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const axis = (s: Series) => {
    const [y0, y1] = extent(s.points.map((p) => p.y));
    return {
      y0,
      y1,
      sy: (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom),
    };
  };
  const l = axis(left);
  const r = right && right.points.length > 0 ? axis(right) : undefined;
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>
        {title}: <span style={{ color: left.color }}>{left.name}</span>
        {right && (
          <>
            {" "}
            and <span style={{ color: right.color }}>{right.name}</span>
          </>
        )}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} className="axis" />
        <text x={PAD.left} y={H - 8} className="tick">
          {formatX(x0)}
        </text>
        <text x={W - PAD.right} y={H - 8} className="tick" textAnchor="end">
          {formatX(x1)}
        </text>
        <text x={PAD.left - 6} y={PAD.top + 4} className="tick" textAnchor="end" fill={left.color}>
          {left.format(l.y1)}
        </text>
        <text x={PAD.left - 6} y={H - PAD.bottom} className="tick" textAnchor="end" fill={left.color}>
          {left.format(l.y0)}
        </text>
        <path d={path(left, sx, l.sy)} fill="none" stroke={left.color} strokeWidth={2} />
        {right && r && (
          <>
            <text x={W - PAD.right + 6} y={PAD.top + 4} className="tick" fill={right.color}>
              {right.format(r.y1)}
            </text>
            <text x={W - PAD.right + 6} y={H - PAD.bottom} className="tick" fill={right.color}>
              {right.format(r.y0)}
            </text>
            <path d={path(right, sx, r.sy)} fill="none" stroke={right.color} strokeWidth={2} />
          </>
        )}
      </svg>
    </figure>
  );
}
