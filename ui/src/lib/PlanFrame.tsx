// The floor plan, scaled to its box keeping the image's aspect ratio (UI-2). Children are placed
// in a layer exactly the size of the drawn image, so a marker at left:x% top:y% sits on the same
// spot of the picture at any screen size — the positions are percent of the image (seed §6.2).
import type { ComponentChildren, Ref } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const DEFAULT_ASPECT = 16 / 9;

export function PlanFrame(props: { image: string | null; children: ComponentChildren; layerRef?: Ref<HTMLDivElement>; class?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [aspect, setAspect] = useState(DEFAULT_ASPECT);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    setFailed(false);
    if (!props.image) return setAspect(DEFAULT_ASPECT);
    const img = new Image();
    img.onload = () => setAspect(img.naturalWidth / img.naturalHeight || DEFAULT_ASPECT);
    img.onerror = () => setFailed(true);
    img.src = props.image;
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

  const showImage = props.image && !failed;
  return (
    <div class={`plan ${props.class ?? ''}`} ref={box}>
      <div
        class={`plan-layer${showImage ? '' : ' plan-blank'}`}
        ref={props.layerRef}
        style={{ width: `${size.width}px`, height: `${size.height}px`, backgroundImage: showImage ? `url("${props.image}")` : undefined }}
      >
        {props.children}
      </div>
    </div>
  );
}
