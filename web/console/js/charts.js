// SPDX-License-Identifier: EUPL-1.2
// Time-series line charts on <canvas>, drawn by hand (no library, nothing
// downloaded). One chart = a legend, a canvas and a hover tooltip.

import { h } from './dom.js';

export const PALETTE = ['#1d7a8c', '#e07a2f', '#6b5bd2', '#2f9e62', '#c0392b', '#b7791f',
                        '#3a78c2', '#a0479a', '#7f8c8d', '#1f5f3a'];

// A round step for about four grid lines up to `max`: 1, 2, 2.5 or 5 times a
// power of ten (no 2.5 and at least 1 for counts).
function niceStep(max, integer) {
  const raw = Math.max(max, integer ? 4 : 1e-9) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]) {
    if (raw <= m * power) return Math.max(m * power, integer ? 1 : 0);
  }
  return 10 * power;
}

function clock(seconds, withSeconds) {
  const d = new Date(seconds * 1000);
  const pad = (v) => String(v).padStart(2, '0');
  return withSeconds ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
                     : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export class LineChart {
  // options: { yFormat(value) -> text (tooltip), axisFormat(value) -> text
  // (default yFormat), integer (counts: whole-number grid lines), emptyText,
  // fill (shade the first series) }
  constructor(options = {}) {
    this.options = { yFormat: (v) => String(v), emptyText: 'Nothing in this window yet', ...options };
    this.options.axisFormat = this.options.axisFormat || this.options.yFormat;
    this.legend = h('div', { class: 'legend' });
    this.canvas = h('canvas', { role: 'img' });
    this.tip = h('div', { class: 'chart-tip', hidden: true });
    this.box = h('div', { class: 'chart' }, this.canvas, this.tip);
    this.element = h('div', { class: 'chart-block' }, this.legend, this.box);
    this.data = { times: [], series: [] };
    this.hover = null;
    this.resize = new ResizeObserver(() => this.draw());
    this.resize.observe(this.box);
    this.canvas.addEventListener('mousemove', (event) => this.onHover(event));
    this.canvas.addEventListener('mouseleave', () => { this.hover = null; this.tip.hidden = true; this.draw(); });
  }

  dispose() { this.resize.disconnect(); }

  // times: Unix seconds; series: [{ name, color, values: [number|null], dash }]
  update(data) {
    this.data = data;
    this.legend.replaceChildren(...data.series.map((s) =>
      h('span', { dataset: { series: s.name } }, h('i', { class: 'swatch', style: `background:${s.color}` }), s.name)));
    this.canvas.setAttribute('aria-label', data.series.map((s) => s.name).join(', ') || this.options.emptyText);
    this.draw();
  }

  geometry() {
    const width = this.box.clientWidth;
    const height = this.box.clientHeight;
    return { width, height, left: 52, right: 10, top: 10, bottom: 24 };
  }

  draw() {
    const { width, height, left, right, top, bottom } = this.geometry();
    if (width === 0 || height === 0) return;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
    }
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';

    const { times, series } = this.data;
    const plotW = width - left - right;
    const plotH = height - top - bottom;
    let max = 0;
    for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
    const step = niceStep(max, this.options.integer);
    const yMax = step * 4;
    const y = (v) => top + plotH - (v / yMax) * plotH;
    const n = times.length;
    const x = (i) => left + (n <= 1 ? plotW : (i / (n - 1)) * plotW);

    // Grid and y labels.
    ctx.strokeStyle = '#edf1f4';
    ctx.fillStyle = '#8a96a3';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let k = 0; k <= 4; k++) {
      const value = step * k;
      const py = Math.round(y(value)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, py); ctx.lineTo(width - right, py); ctx.stroke();
      ctx.fillText(this.options.axisFormat(value), left - 8, py);
    }
    // X labels: a round step that leaves room for each label.
    if (n > 1) {
      const span = times[n - 1] - times[0];
      const steps = [5, 10, 15, 30, 60, 120, 300, 600];
      const step = steps.find((s) => (plotW / (span / s)) >= 70) || 600;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      for (let i = 0; i < n; i++) {
        if (times[i] % step !== 0) continue;
        const px = x(i);
        ctx.fillText(clock(times[i], step < 60), px, top + plotH + 7);
        ctx.beginPath(); ctx.moveTo(px + 0.5, top + plotH); ctx.lineTo(px + 0.5, top + plotH + 4); ctx.stroke();
      }
    }
    ctx.strokeStyle = '#c9d2da';
    ctx.beginPath(); ctx.moveTo(left, top + plotH + 0.5); ctx.lineTo(width - right, top + plotH + 0.5); ctx.stroke();

    if (series.length === 0) {
      ctx.fillStyle = '#8a96a3';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.font = '13px system-ui, sans-serif';
      ctx.fillText(this.options.emptyText, left + plotW / 2, top + plotH / 2);
      return;
    }

    series.forEach((s, index) => {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.lineJoin = 'round';
      ctx.setLineDash(s.dash ? [5, 4] : []);
      ctx.beginPath();
      let drawing = false;
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) { drawing = false; return; }
        if (drawing) ctx.lineTo(x(i), y(v)); else ctx.moveTo(x(i), y(v));
        drawing = true;
      });
      ctx.stroke();
      ctx.setLineDash([]);
      if (this.options.fill && index === 0) {
        ctx.globalAlpha = 0.08;
        ctx.fillStyle = s.color;
        ctx.beginPath();
        ctx.moveTo(x(0), y(0));
        s.values.forEach((v, i) => ctx.lineTo(x(i), y(v ?? 0)));
        ctx.lineTo(x(n - 1), y(0));
        ctx.closePath();
        ctx.fill();
        ctx.globalAlpha = 1;
      }
    });

    if (this.hover !== null && this.hover < n) {
      const px = x(this.hover);
      ctx.strokeStyle = '#52606d';
      ctx.setLineDash([3, 3]);
      ctx.beginPath(); ctx.moveTo(px + 0.5, top); ctx.lineTo(px + 0.5, top + plotH); ctx.stroke();
      ctx.setLineDash([]);
      for (const s of series) {
        const v = s.values[this.hover];
        if (v === null || v === undefined) continue;
        ctx.fillStyle = s.color;
        ctx.beginPath(); ctx.arc(px, y(v), 3, 0, Math.PI * 2); ctx.fill();
      }
    }
  }

  onHover(event) {
    const { width, left, right } = this.geometry();
    const n = this.data.times.length;
    if (n < 2) return;
    const rect = this.canvas.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const i = Math.max(0, Math.min(n - 1, Math.round(((px - left) / (width - left - right)) * (n - 1))));
    this.hover = i;
    this.draw();
    const lines = this.data.series.map((s) => {
      const v = s.values[i];
      return h('div', {}, h('b', { text: `${s.name}: ` }), v === null || v === undefined ? '–' : this.options.yFormat(v));
    });
    this.tip.replaceChildren(h('div', { text: clock(this.data.times[i], true) }), ...lines);
    this.tip.hidden = false;
    this.tip.style.left = `${Math.min(Math.max(px, 80), width - 80)}px`;
    this.tip.style.top = '8px';
  }
}
