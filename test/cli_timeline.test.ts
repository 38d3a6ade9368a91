// `lockstep timeline` end to end: the page it writes is opened in headless Chromium (Debian's
// package, driven by playwright-core) and must render without console errors, show one lane per
// thread, zoom from aggregated columns to single events, and stay bounded in drawing work for a
// million-event log. Screenshots go to test-artifacts/ for a person to look at.
//
// Chromium is a test dependency installed by scripts/install-chromium.sh (.ci/run calls it). If it
// is missing these tests fail and say so: a skipped browser test would look like a passing one.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { InspectReport } from '../cli/log_stats.js';
import { BANK, BANK_ENV, HANDOFF, ROOT, lockstep, tempDir } from './fixtures/cli/helpers.js';

const CHROMIUM = process.env.LOCKSTEP_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

interface TimelineState {
  lanes: number;
  threads: number[];
  events: number;
  handoffs: number;
  view: { x0: number; x1: number };
  frame: { axis: string; mode: string; lanesAggregated: number; lanesEvents: number; handoffMode: string; handoffsInView: number; primitives: number; width: number };
}

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run scripts/install-chromium.sh (apt-get install chromium), or set LOCKSTEP_CHROMIUM to its path`);
  }
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Opens a timeline page, failing on any console error or uncaught page error. */
async function open(browser: Browser, file: string, problems: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network request: ${r.url()}`);
  });
  await page.goto(`file://${file}`);
  await page.waitForFunction(() => document.body.dataset.ready === '1' || (document.getElementById('status')?.textContent ?? '') !== '', null, { timeout: 120_000 });
  assert.equal(await page.textContent('#status'), '', 'the page reported a failure');
  return page;
}

const state = (page: Page): Promise<TimelineState> => page.evaluate(() => {
  const t = (window as unknown as { lockstepTimeline: TimelineState }).lockstepTimeline;
  return { lanes: t.lanes, threads: t.threads, events: t.events, handoffs: t.handoffs, view: { ...t.view }, frame: { ...t.frame } };
});

/** Waits for the next animation frame, so a scheduled redraw has happened. */
const drawn = (page: Page): Promise<void> => page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

describe('lockstep timeline', function () {
  const dir = tempDir();
  let browser: Browser;

  before(async function () {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launch();
  });

  after(async function () {
    await browser?.close();
  });

  describe('of the bank', function () {
    const log = join(dir, 'bank.lsl');
    const html = join(dir, 'bank.html');
    let report: InspectReport;

    before(async function () {
      const rec = await lockstep(['record', '-o', log, BANK], BANK_ENV);
      assert.equal(rec.code, 0, rec.stderr);
      const r = await lockstep(['timeline', log, '-o', html]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^wrote ${html} \\([\\d.]+ KiB\\): 5 threads, [\\d,]+ events$`, 'm'));
      report = JSON.parse((await lockstep(['inspect', '--json', log])).stdout) as InspectReport;
    });

    it('is one self-contained file: no scripts, styles or images from elsewhere', function () {
      const page = readFileSync(html, 'utf8');
      assert.doesNotMatch(page, /<(script|link|img)[^>]+(src|href)=/i);
      assert.doesNotMatch(page, /https?:\/\//);
    });

    it('renders in Chromium without console errors, one lane per thread, and is saved as a screenshot', async function () {
      const problems: string[] = [];
      const page = await open(browser, html, problems);
      const s = await state(page);
      assert.equal(s.lanes, 5);
      assert.deepEqual(s.threads, [0, 1, 2, 3, 4]);
      assert.deepEqual(await page.$$eval('.lane-label', (els) => els.map((e) => (e as HTMLElement).dataset.thread)), ['0', '1', '2', '3', '4']);
      assert.equal(s.events, report.run.events);
      assert.equal(s.handoffs, report.contention.handoffs);
      assert.ok(s.frame.primitives > 0, 'something was drawn');
      assert.equal(await page.$$eval('#busiest tbody tr', (rows) => rows.length), 20);
      // Objects by the names the program gave them, not bare ids.
      const top = report.contention.busiest[0]!;
      const name = report.objects.find((o) => o.object === top.object)!.name;
      assert.match(name, /^account\[\d+\]$/);
      assert.equal(await page.textContent('#busiest tbody tr td:nth-child(1)'), `${name} #${top.object}`);
      const shot = join(ARTIFACTS, 'timeline.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10_000);
      assert.deepEqual(problems, []);
      await page.close();
    });

    it('zooms with the mouse wheel down to single events and hand-off lines', async function () {
      const problems: string[] = [];
      const page = await open(browser, html, problems);
      const before = await state(page);
      const box = (await page.locator('#canvas').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -400);
      await drawn(page);
      const zoomed = await state(page);
      assert.ok(zoomed.view.x1 - zoomed.view.x0 < (before.view.x1 - before.view.x0) / 4, 'the wheel zoomed in');

      const busiest = report.contention.busiest[0]!.object;
      await page.click(`#busiest tbody tr[data-object="${busiest}"]`);
      assert.equal(await page.getAttribute(`#busiest tbody tr[data-object="${busiest}"]`, 'class'), 'selected');
      // Around the middle hand-off, narrow enough that every visible event gets its own mark.
      await page.evaluate(() => {
        const t = (window as unknown as { lockstepTimeline: { zoomTo: (a: number, b: number) => void; handoffs: number; handoff: (i: number) => { toClock: number } } }).lockstepTimeline;
        const at = t.handoff(Math.floor(t.handoffs / 2)).toClock;
        t.zoomTo(at - 150, at + 150);
      });
      await drawn(page);
      const close = await state(page);
      assert.equal(close.frame.lanesAggregated, 0, 'no lane is aggregated at this zoom');
      assert.ok(close.frame.handoffsInView > 0);
      assert.equal(close.frame.handoffMode, 'lines');
      await page.mouse.move(box.x + box.width / 2, box.y + 60);
      assert.match((await page.textContent('#details'))!, /thread \d/);
      await page.screenshot({ path: join(ARTIFACTS, 'timeline-zoomed.png'), fullPage: true });
      assert.deepEqual(problems, []);
      await page.close();
    });

    it('switches to a wall-clock time axis (t) and back', async function () {
      const problems: string[] = [];
      const page = await open(browser, html, problems);
      const manifest = await page.evaluate(() => JSON.parse(document.getElementById('lockstep-manifest')!.textContent!) as { timeMax: number; clockMax: number });
      assert.ok(manifest.timeMax > 0, 'the log carries chunk times');
      await page.keyboard.press('t');
      await drawn(page);
      const timed = await state(page);
      assert.equal(timed.frame.axis, 'time');
      assert.ok(Math.abs(timed.view.x1 - manifest.timeMax) <= manifest.timeMax * 0.01, `${timed.view.x1} vs ${manifest.timeMax} ms`);
      assert.ok(timed.frame.primitives > 0);
      assert.match((await page.textContent('#readout'))!, /^time [\d.]+ ms–[\d.]+ ms of [\d.]+ ms/);
      await page.screenshot({ path: join(ARTIFACTS, 'timeline-time-axis.png'), fullPage: true });
      await page.keyboard.press('t');
      await drawn(page);
      const back = await state(page);
      assert.equal(back.frame.axis, 'causal');
      assert.equal(back.view.x1, manifest.clockMax + 1);
      assert.deepEqual(problems, []);
      await page.close();
    });
  });

  it('marks inputs and outputs and draws a small run event by event', async function () {
    const log = join(dir, 'handoff.lsl');
    const html = join(dir, 'handoff.html');
    assert.equal((await lockstep(['record', '-o', log, '--seed', '2', HANDOFF])).code, 0);
    assert.equal((await lockstep(['timeline', log, '-o', html])).code, 0);
    const problems: string[] = [];
    const page = await open(browser, html, problems);
    const s = await state(page);
    assert.equal(s.lanes, 3);
    assert.equal(s.frame.mode, 'events');
    assert.equal(s.frame.handoffMode, 'lines');
    assert.equal(s.handoffs, 2);
    const categories = await page.evaluate(() => {
      const m = JSON.parse(document.getElementById('lockstep-manifest')!.textContent!) as { categories: Record<string, number> };
      return m.categories;
    });
    assert.equal(categories['41'], 2, 'inputs are their own category');
    assert.equal(categories['42'], 3, 'outputs are their own category');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('stays usable for a million events: drawing work is bounded by the width, not the events', async function () {
    const log = join(dir, 'million.lsl');
    const html = join(dir, 'million.html');
    // 4 tellers × 50,000 transfers × 5 events ≈ 1,000,000 events.
    const rec = await lockstep(['record', '-o', log, BANK], { BANK_TRANSFERS: '50000' });
    assert.equal(rec.code, 0, rec.stderr);
    const r = await lockstep(['timeline', log, '-o', html]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(statSync(html).size < 32 << 20, 'the page stays a few megabytes');

    const problems: string[] = [];
    const page = await open(browser, html, problems);
    const whole = await state(page);
    assert.ok(whole.events >= 1_000_000, `${whole.events} events`);
    assert.ok(whole.frame.lanesAggregated >= 4, 'the busy lanes are aggregated when zoomed out');
    assert.equal(whole.frame.handoffMode, 'density');
    const bound = 4 * whole.frame.width * (whole.lanes + 1);
    assert.ok(whole.frame.primitives < bound, `${whole.frame.primitives} primitives drawn for ${whole.events} events (bound ${bound})`);
    await page.screenshot({ path: join(ARTIFACTS, 'timeline-million.png'), fullPage: true });

    await page.evaluate(() => {
      const t = (window as unknown as { lockstepTimeline: { zoomTo: (a: number, b: number) => void; view: { x0: number; x1: number } } }).lockstepTimeline;
      const mid = (t.view.x0 + t.view.x1) / 2;
      t.zoomTo(mid - 150, mid + 150);
    });
    await drawn(page);
    const close = await state(page);
    assert.equal(close.frame.lanesAggregated, 0, 'single events when zoomed in');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
