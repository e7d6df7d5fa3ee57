"""Loads a COCO dataset with the COCO tools installed here and exercises what their users call.

Usage: python3 coco_tools.py DATASET.json
Prints one JSON object: the tools that ran, and for each the images, annotations and bbox AP of
the dataset's own boxes scored against themselves (1.0 when the file is read right). Exits 3
when no COCO tool is installed, 1 when a tool fails on the file.
"""
import json
import sys


def exercise(name, COCO, COCOeval):
    gt = COCO(sys.argv[1])
    images = gt.getImgIds()
    anns = gt.loadAnns(gt.getAnnIds())
    for a in anns:
        img = gt.imgs[a["image_id"]]
        mask = gt.annToMask(a)  # rasterises the segmentation polygon
        if mask.shape != (img["height"], img["width"]):
            raise AssertionError("mask of annotation %d is %s" % (a["id"], mask.shape))
        if mask.sum() == 0:
            raise AssertionError("annotation %d has an empty mask" % a["id"])
    ap = None
    if anns:
        dets = [
            {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
            for a in anns
        ]
        res = gt.loadRes(dets)  # needs dataset["info"] in pycocotools 2.0.9 and 2.0.10
        ev = COCOeval(gt, res, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        ap = float(ev.stats[0])
    return {"tool": name, "images": len(images), "annotations": len(anns), "ap": ap}


def main():
    ran = []
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        ran.append(exercise("pycocotools", COCO, COCOeval))
    except ImportError:
        pass
    try:
        from faster_coco_eval import COCO as FCOCO
        from faster_coco_eval import COCOeval_faster

        ran.append(exercise("faster-coco-eval", FCOCO, COCOeval_faster))
    except ImportError:
        pass
    if not ran:
        sys.exit(3)
    sys.stdout.write("\n" + json.dumps(ran) + "\n")


if __name__ == "__main__":
    main()
