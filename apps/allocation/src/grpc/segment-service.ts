import type * as pb from '@inventory/contracts';
import { unary } from '@inventory/grpc-server';
import type { Logger } from '@inventory/runtime';
import type { SegmentCatalog } from '../inventory/segment-catalog';
import { fromSegment, fromSegmentType } from './segment-translate';

export function segmentServiceHandlers(catalog: SegmentCatalog, logger: Logger): pb.SegmentServiceServer {
  return {
    createSegmentType: unary('CreateSegmentType', logger, async (req: pb.CreateSegmentTypeRequest) => ({
      segmentType: fromSegmentType(
        await catalog.createSegmentType({
          requestId: req.requestId,
          segmentType: req.segmentType?.segmentType ?? '',
          description: req.segmentType?.description ?? '',
        }),
      ),
    })),
    getSegmentType: unary('GetSegmentType', logger, async (req: pb.GetSegmentTypeRequest) => ({
      segmentType: fromSegmentType(await catalog.getSegmentType(req.segmentType)),
    })),
    listSegmentTypes: unary('ListSegmentTypes', logger, async (req: pb.ListSegmentTypesRequest) => {
      const { items, nextPageToken } = await catalog.listSegmentTypes(req.pageSize, req.pageToken);
      return { segmentTypes: items.map(fromSegmentType), nextPageToken };
    }),
    createSegment: unary('CreateSegment', logger, async (req: pb.CreateSegmentRequest) => ({
      segment: fromSegment(
        await catalog.createSegment({
          requestId: req.requestId,
          segmentType: req.segment?.segmentType ?? '',
          segment: req.segment?.segment ?? '',
          description: req.segment?.description ?? '',
        }),
      ),
    })),
    getSegment: unary('GetSegment', logger, async (req: pb.GetSegmentRequest) => ({
      segment: fromSegment(await catalog.getSegment(req.segmentType, req.segment)),
    })),
    listSegments: unary('ListSegments', logger, async (req: pb.ListSegmentsRequest) => {
      const { items, nextPageToken } = await catalog.listSegments(
        { segmentType: req.segmentType, includeRetired: req.includeRetired },
        req.pageSize,
        req.pageToken,
      );
      return { segments: items.map(fromSegment), nextPageToken };
    }),
    updateSegment: unary('UpdateSegment', logger, async (req: pb.UpdateSegmentRequest) => ({
      segment: fromSegment(
        await catalog.updateSegment({
          requestId: req.requestId,
          segmentType: req.segmentType,
          segment: req.segment,
          description: req.description,
        }),
      ),
    })),
    retireSegment: unary('RetireSegment', logger, async (req: pb.RetireSegmentRequest) => ({
      segment: fromSegment(
        await catalog.retireSegment({ requestId: req.requestId, segmentType: req.segmentType, segment: req.segment }),
      ),
    })),
  };
}
