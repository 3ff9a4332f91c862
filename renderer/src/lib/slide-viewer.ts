// One OpenSeadragon viewer for one slide at a time, with tiled overlays aligned to it. The component
// (components/viewer/Viewer.svelte) owns the DOM and the key bindings; this class owns OpenSeadragon.
import OpenSeadragon from 'openseadragon';
import type { OverlayInfo, TileSourceInfo } from '../../../core/common/api.js';
import { osdTileSource } from './tile-source.js';

/** What the UI shows and tests observe. zoom = CSS pixels per level-0 pixel; centre in level-0 pixels. */
export interface ViewerState {
  imageId: string | null;
  zoom: number;
  centerX: number;
  centerY: number;
  tilesLoaded: number;
  tilesFailed: number;
  overlayTilesLoaded: number;
}

export interface OverlayLayer {
  readonly info: OverlayInfo;
  setOpacity(opacity: number): void;
  setVisible(visible: boolean): void;
  remove(): void;
}

export class SlideViewer {
  private readonly osd: OpenSeadragon.Viewer;
  private info: TileSourceInfo | null = null;
  private base: OpenSeadragon.TiledImage | null = null;
  private readonly overlays = new Map<OpenSeadragon.TiledImage, OverlayInfo>();
  private state: ViewerState = { imageId: null, zoom: 0, centerX: 0, centerY: 0, tilesLoaded: 0, tilesFailed: 0, overlayTilesLoaded: 0 };
  private frame = 0;

  constructor(
    element: HTMLElement,
    private readonly onState: (s: ViewerState) => void,
  ) {
    this.osd = new OpenSeadragon.Viewer({
      element,
      // The 2D canvas drawer: works without a GPU and with tiles from a custom protocol (Electron).
      drawer: 'canvas',
      showNavigationControl: false,
      showNavigator: true,
      navigatorPosition: 'BOTTOM_RIGHT',
      navigatorSizeRatio: 0.16,
      navigatorAutoFade: false,
      // Slide-viewer habits: drag pans, wheel zooms at the cursor, double-click zooms in; our own keys.
      keyboardNavEnabled: false,
      gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true, scrollToZoom: true, flickEnabled: true },
      zoomPerScroll: 1.4,
      zoomPerClick: 2,
      animationTime: 0.6,
      visibilityRatio: 0.2,
      maxZoomPixelRatio: 4,
      minZoomImageRatio: 0.5,
      blendTime: 0.1,
      timeout: 60_000,
      crossOriginPolicy: false,
    } as OpenSeadragon.Options);
    this.osd.addHandler('viewport-change', () => this.schedule());
    this.osd.addHandler('resize', () => this.schedule());
    this.osd.addHandler('tile-loaded', (e) => {
      if (e.tiledImage === this.base) this.state.tilesLoaded++;
      else this.state.overlayTilesLoaded++;
      this.schedule();
    });
    this.osd.addHandler('tile-load-failed', (e) => {
      if (e.tiledImage === this.base) this.state.tilesFailed++;
      this.schedule();
    });
    const nav = this.osd.navigator as unknown as { element?: HTMLElement } | undefined;
    nav?.element?.setAttribute('data-testid', 'navigator');
  }

  /** Shows `info`'s image, dropping the previous one and its overlays. Resolves once it is placed. */
  open(info: TileSourceInfo): Promise<void> {
    this.info = info;
    this.base = null;
    this.overlays.clear();
    this.state = { imageId: info.imageId, zoom: 0, centerX: 0, centerY: 0, tilesLoaded: 0, tilesFailed: 0, overlayTilesLoaded: 0 };
    return new Promise((resolve, reject) => {
      this.osd.world.removeAll();
      this.osd.addTiledImage({
        tileSource: osdTileSource(info),
        success: (e) => {
          this.base = (e as unknown as { item: OpenSeadragon.TiledImage }).item;
          this.osd.viewport.goHome(true);
          this.schedule();
          resolve();
        },
        error: (err) =>
          reject(new Error(`Could not open ${info.imageId}: ${String((err as unknown as { message?: string }).message ?? err)}`)),
      });
    });
  }

  /** Draws the open image from another tile URL (its channel display changed), keeping the view and the
   * overlays: the new tiles go in beneath, and the old image is dropped once they are placed. */
  setBaseTiles(tileUrl: string): Promise<void> {
    const info = this.info;
    const old = this.base;
    if (!info || !old || info.tileUrl === tileUrl) return Promise.resolve();
    this.info = { ...info, tileUrl };
    const next = this.info;
    return new Promise((resolve, reject) => {
      this.osd.addTiledImage({
        tileSource: osdTileSource(next),
        index: 0,
        x: 0,
        y: 0,
        width: 1,
        success: (e) => {
          this.base = (e as unknown as { item: OpenSeadragon.TiledImage }).item;
          this.osd.world.removeItem(old);
          this.schedule();
          resolve();
        },
        error: () => reject(new Error(`Could not redraw ${info.imageId} with its new channel settings.`)),
      });
    });
  }

  /** Adds a tiled overlay on the open image's grid (same level numbering, aligned at the origin). */
  addOverlay(overlay: OverlayInfo): Promise<OverlayLayer> {
    const info = this.info;
    if (!info || overlay.imageId !== info.imageId) return Promise.reject(new Error(`Overlay ${overlay.name} is for another image.`));
    return new Promise((resolve, reject) => {
      this.osd.addTiledImage({
        tileSource: osdTileSource(info, overlay.tileUrl),
        x: 0,
        y: 0,
        width: 1,
        opacity: overlay.defaultOpacity,
        success: (e) => {
          const item = (e as unknown as { item: OpenSeadragon.TiledImage }).item;
          this.overlays.set(item, overlay);
          let opacity = overlay.defaultOpacity;
          let visible = true;
          resolve({
            info: overlay,
            setOpacity: (o) => {
              opacity = o;
              if (visible) item.setOpacity(o);
            },
            setVisible: (v) => {
              visible = v;
              item.setOpacity(v ? opacity : 0);
            },
            remove: () => {
              this.osd.world.removeItem(item);
              this.overlays.delete(item);
            },
          });
        },
        error: () => reject(new Error(`Could not add the overlay ${overlay.name}.`)),
      });
    });
  }

  zoomBy(factor: number): void {
    this.osd.viewport.zoomBy(factor);
    this.osd.viewport.applyConstraints();
  }

  /** Pans by fractions of the visible width and height. */
  panBy(fx: number, fy: number): void {
    const b = this.osd.viewport.getBounds();
    this.osd.viewport.panBy(new OpenSeadragon.Point(fx * b.width, fy * b.height));
    this.osd.viewport.applyConstraints();
  }

  fit(): void {
    this.osd.viewport.goHome();
  }

  /** Centres the view on a level-0 pixel, zoomed so that about `span` level-0 pixels fill the width. */
  centerOn(x: number, y: number, span?: number): void {
    if (!this.base) return;
    const vp = this.osd.viewport;
    const p = this.base.imageToViewportCoordinates(new OpenSeadragon.Point(x, y));
    if (span) vp.zoomTo(this.base.imageToViewportZoom(vp.getContainerSize().x / span), undefined, true);
    vp.panTo(p, true);
    vp.applyConstraints(true);
  }

  /** Level-0 pixel under a point given in CSS pixels relative to the viewer element. */
  imagePointAt(px: number, py: number): { x: number; y: number } | null {
    if (!this.base) return null;
    const vp = this.osd.viewport.pointFromPixel(new OpenSeadragon.Point(px, py), true);
    const p = this.base.viewportToImageCoordinates(vp);
    return { x: p.x, y: p.y };
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.osd.destroy();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.base) {
        const vp = this.osd.viewport;
        const c = this.base.viewportToImageCoordinates(vp.getCenter(true));
        this.state.zoom = this.base.viewportToImageZoom(vp.getZoom(true));
        this.state.centerX = c.x;
        this.state.centerY = c.y;
      }
      this.onState({ ...this.state });
    });
  }
}
