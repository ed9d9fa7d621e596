// The floor plan, scaled to its box keeping the image's aspect ratio (UI-2). Children are placed
// in a layer exactly the size of the drawn image, so a marker at left:x% top:y% sits on the same
// spot of the picture at any screen size — the positions are percent of the image (seed §6.2).
// `image` is the URL the server signed for a few minutes (GET /api/config/dashboard): an image
// cannot send an Authorization header, and a session token must never go into a URL (issue 16.10).
// A new signed URL (every few minutes) is drawn without a flash: the old picture stays until the
// new one has loaded. Issue 15.8: `onSize` reports the drawn size, px, so the markers that would
// cover each other at that size can be grouped (plan-clusters.ts).
import type { ComponentChildren, Ref } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const DEFAULT_ASPECT = 16 / 9;

export function PlanFrame(props: {
  image: string | null; children: ComponentChildren; layerRef?: Ref<HTMLDivElement>; class?: string;
  onSize?: (size: { width: number; height: number }) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [aspect, setAspect] = useState(DEFAULT_ASPECT);
  const [size, setSize] = useState({ width: 0, height: 0 });
  /** The URL drawn: the newest that has loaded (a failed refresh keeps the picture already shown). */
  const [shown, setShown] = useState<string | null>(null);

  useEffect(() => {
    if (!props.image) {
      setShown(null);
      return setAspect(DEFAULT_ASPECT);
    }
    const url = props.image;
    let current = true;
    const img = new Image();
    img.onload = () => {
      if (!current) return;
      setAspect(img.naturalWidth / img.naturalHeight || DEFAULT_ASPECT);
      setShown(url);
    };
    img.src = url;
    return () => {
      current = false;
    };
  }, [props.image]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fit = () => {
      const { clientWidth: w, clientHeight: h } = el;
      if (!w || !h) return;
      const width = Math.min(w, h * aspect);
      setSize({ width: Math.floor(width), height: Math.floor(width / aspect) });
    };
    fit();
    const observer = new ResizeObserver(fit);
    observer.observe(el);
    return () => observer.disconnect();
  }, [aspect]);

  const onSize = props.onSize;
  useEffect(() => {
    onSize?.(size);
  }, [size.width, size.height, onSize]);

  const showImage = !!props.image && !!shown;
  return (
    <div class={`plan ${props.class ?? ''}`} ref={box}>
      <div
        class={`plan-layer${showImage ? '' : ' plan-blank'}`}
        ref={props.layerRef}
        style={{ width: `${size.width}px`, height: `${size.height}px`, backgroundImage: showImage ? `url("${shown}")` : undefined }}
      >
        {props.children}
      </div>
    </div>
  );
}
