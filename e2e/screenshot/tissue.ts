// A synthetic, H&E-like "slide" for the README screenshot: pink tissue islands on glass, purple nuclei,
// glands with pale lumens. Drawn as SVG (deterministic, seeded) and rasterised by libvips.

import { mulberry32 as rng } from '../../core/common/random.js';

interface Island {
  cx: number;
  cy: number;
  r: number;
}

export function tissueSvg(width: number, height: number, seed = 7): string {
  const rand = rng(seed);
  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="#f3f0f2"/>`);
  // Tissue islands: each a cloud of overlapping pink discs, so the outline is irregular.
  const islands: Island[] = [
    { cx: width * 0.3, cy: height * 0.45, r: Math.min(width, height) * 0.3 },
    { cx: width * 0.7, cy: height * 0.55, r: Math.min(width, height) * 0.26 },
    { cx: width * 0.62, cy: height * 0.18, r: Math.min(width, height) * 0.1 },
  ];
  const inside = (x: number, y: number): boolean => islands.some((i) => Math.hypot(x - i.cx, y - i.cy) < i.r * 0.95);
  for (const isl of islands) {
    for (let k = 0; k < 90; k++) {
      const a = rand() * Math.PI * 2;
      const d = Math.sqrt(rand()) * isl.r * 0.75;
      const r = isl.r * (0.2 + rand() * 0.25);
      const pink = ['#e7a3c3', '#eab0cc', '#dd8fb6', '#f0bcd3'][Math.floor(rand() * 4)];
      parts.push(
        `<circle cx="${(isl.cx + Math.cos(a) * d).toFixed(0)}" cy="${(isl.cy + Math.sin(a) * d).toFixed(0)}" r="${r.toFixed(0)}" fill="${pink}" fill-opacity="0.55"/>`,
      );
    }
  }
  // Stroma fibres: long faint strokes.
  for (let k = 0; k < 260; k++) {
    const x = rand() * width;
    const y = rand() * height;
    if (!inside(x, y)) continue;
    const a = rand() * Math.PI;
    const len = 150 + rand() * 450;
    parts.push(
      `<path d="M${x.toFixed(0)} ${y.toFixed(0)} q ${(Math.cos(a) * len * 0.5 + 60).toFixed(0)} ${(Math.sin(a) * len * 0.5 - 60).toFixed(0)} ${(Math.cos(a) * len).toFixed(0)} ${(Math.sin(a) * len).toFixed(0)}" stroke="#d77fab" stroke-opacity="0.45" stroke-width="${(6 + rand() * 10).toFixed(0)}" fill="none"/>`,
    );
  }
  // Glands: a pale lumen ringed by nuclei.
  const glands: Island[] = [];
  for (let k = 0; k < 160 && glands.length < 38; k++) {
    const x = rand() * width;
    const y = rand() * height;
    const r = 70 + rand() * 130;
    if (!inside(x, y) || glands.some((g) => Math.hypot(g.cx - x, g.cy - y) < g.r + r + 60)) continue;
    glands.push({ cx: x, cy: y, r });
    parts.push(
      `<ellipse cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" rx="${(r * 1.25).toFixed(0)}" ry="${r.toFixed(0)}" fill="#c97aa8" fill-opacity="0.6"/>`,
    );
    parts.push(
      `<ellipse cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" rx="${(r * 0.85).toFixed(0)}" ry="${(r * 0.62).toFixed(0)}" fill="#f7eef3"/>`,
    );
    const n = Math.round(r / 7);
    for (let j = 0; j < n; j++) {
      const a = (j / n) * Math.PI * 2;
      const nx = x + Math.cos(a) * r * 1.03;
      const ny = y + Math.sin(a) * r * 0.8;
      parts.push(
        `<ellipse cx="${nx.toFixed(0)}" cy="${ny.toFixed(0)}" rx="13" ry="8" transform="rotate(${((a * 180) / Math.PI).toFixed(0)} ${nx.toFixed(0)} ${ny.toFixed(0)})" fill="#4a2f7d" fill-opacity="0.85"/>`,
      );
    }
  }
  // Scattered nuclei, denser in some places (a lymphocyte-rich focus).
  for (let k = 0; k < 14000; k++) {
    const focus = rand() < 0.25;
    // Box–Muller: the focus is a Gaussian cloud, not a square.
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * 0.05;
    const t = rand() * Math.PI * 2;
    const x = focus ? width * (0.34 + g * Math.cos(t)) : rand() * width;
    const y = focus ? height * (0.55 + g * Math.sin(t) * 1.2) : rand() * height;
    if (!inside(x, y) || glands.some((g) => Math.hypot(g.cx - x, g.cy - y) < g.r * 1.15)) continue;
    const rx = focus ? 6 + rand() * 3 : 8 + rand() * 8;
    const ry = focus ? rx : rx * (0.55 + rand() * 0.4);
    const col = ['#3f2a6e', '#54357f', '#6a4590', '#2f2060'][Math.floor(rand() * 4)];
    parts.push(
      `<ellipse cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" rx="${rx.toFixed(1)}" ry="${ry.toFixed(1)}" transform="rotate(${(rand() * 180).toFixed(0)} ${x.toFixed(0)} ${y.toFixed(0)})" fill="${col}" fill-opacity="${(0.6 + rand() * 0.35).toFixed(2)}"/>`,
    );
  }
  // A few red blood cells.
  for (let k = 0; k < 500; k++) {
    const x = rand() * width;
    const y = rand() * height;
    if (!inside(x, y)) continue;
    parts.push(`<circle cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" r="${(7 + rand() * 3).toFixed(1)}" fill="#d8485f" fill-opacity="0.7"/>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}
