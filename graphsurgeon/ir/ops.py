"""Op families: which TensorFlow ops hold state, update it, restore it or need a feed.

Every stage that asks "is this a variable / an assignment / an input?" asks it
here, so a family is written once and every stage agrees about its members.
Plain data and predicates on op names: no TensorFlow, no graph.
"""
from __future__ import annotations

# Ops that own a variable: ref variables (TF1 graphs) and resource handles (TF2 / use_resource).
REF_VARIABLE_OPS = frozenset({"VariableV2", "Variable"})
VARIABLE_OPS = REF_VARIABLE_OPS | frozenset({"VarHandleOp"})

# Assignments that set a variable's whole value: what initializers and a Saver's restore write.
INIT_ASSIGN_OPS = frozenset({"Assign", "AssignVariableOp"})
# Every assignment, the in-place arithmetic ones included.
ASSIGN_OPS = INIT_ASSIGN_OPS | frozenset({"AssignAdd", "AssignSub", "AssignAddVariableOp", "AssignSubVariableOp"})
# The value a ref assignment produces, once there is no variable to update (freezing keeps the arithmetic).
ASSIGN_AS_VALUE = {"Assign": "Identity", "AssignAdd": "Add", "AssignSub": "Sub"}

# Families of ops that write into a variable: assignments, scatters into it, optimizer updates.
STATE_UPDATE_PREFIXES = ("Assign", "Scatter", "ResourceScatter", "Apply", "SparseApply", "ResourceApply",
                         "ResourceSparseApply")
# Named like a scatter into a variable, but pure: they return a new tensor and touch no state.
PURE_SCATTER_OPS = frozenset({"ScatterNd", "ScatterNdNonAliasingAdd"})
# Optimizer updates only: a node running one exists only for training.
OPTIMIZER_PREFIXES = ("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply")

# Ops that fill a lookup table, an init op's job: from two tensors (keys, values) or from a vocabulary file.
TABLE_INIT_OPS = frozenset({"InitializeTable", "InitializeTableV2", "InitializeTableFromTextFile",
                            "InitializeTableFromTextFileV2", "InitializeTableFromDataset", "LookupTableImport",
                            "LookupTableImportV2"})
# tf.lookup.TextFileIndex: the key_index/value_index of a table filled from a text file.
WHOLE_LINE, LINE_NUMBER = -2, -1

# Ops a Saver restores checkpoint tensors with (V2 bundles, V1 files, V1 partitioned slices).
RESTORE_OPS = frozenset({"RestoreV2", "Restore", "RestoreSlice"})

# Ops that write files on the machine running the graph: checkpoints, summaries, raw files, datasets.
FILE_WRITE_OPS = frozenset({
    "SaveV2", "Save", "SaveSlices", "MergeV2Checkpoints", "WriteFile", "DatasetToTFRecord", "SaveDataset",
    "SaveDatasetV2", "CreateSummaryFileWriter", "FlushSummaryWriter", "ImportEvent", "WriteSummary",
    "WriteScalarSummary", "WriteHistogramSummary", "WriteImageSummary", "WriteAudioSummary",
    "WriteRawProtoSummary", "WriteGraphSummary",
})
# Ops that read or list files by a path: in a served signature, a path a client may choose.
FILE_READ_OPS = frozenset({"ReadFile", "MatchingFiles"})
# Ops that push onto a queue or stack or change a mutable table: state each request would change.
STATE_PUSH_OPS = frozenset({
    "QueueEnqueue", "QueueEnqueueV2", "QueueEnqueueMany", "QueueEnqueueManyV2", "StackPush", "StackPushV2",
    "LookupTableInsert", "LookupTableInsertV2", "LookupTableRemoveV2", "BarrierInsertMany",
})

# Ops that draw new random numbers at every run (a stateless op with a constant seed draws the same ones).
STATEFUL_RANDOM_OPS = frozenset({
    "RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal", "ParameterizedTruncatedNormal",
    "RandomGamma", "RandomPoisson", "RandomPoissonV2", "RandomShuffle", "Multinomial", "RandomCrop",
    "StatefulUniform", "StatefulUniformInt", "StatefulUniformFullInt", "StatefulStandardNormal",
    "StatefulStandardNormalV2", "StatefulTruncatedNormal", "StatefulRandomBinomial", "NonDeterministicInts",
    "UniformCandidateSampler", "LogUniformCandidateSampler", "LearnedUnigramCandidateSampler",
    "FixedUnigramCandidateSampler", "AllCandidateSampler", "ThreadUnsafeUnigramCandidateSampler",
})
# Batch norm ops, whose is_training attr picks batch statistics over the moving ones.
FUSED_BATCH_NORM_OPS = frozenset({"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"})
# Functional conds: their first input is the predicate, then_branch/else_branch attrs name the branches.
FUNCTIONAL_COND_OPS = frozenset({"If", "StatelessIf"})

# Ops that call back into a Python interpreter: TensorFlow Serving has none, and we never run them.
PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})

# Sources a cut replaces with a new input; each takes its dtype and shape from attrs.
PLACEHOLDER_OPS = frozenset({"Placeholder", "PlaceholderV2"})
# Sources whose static shape is an attr on the node (a Placeholder's "shape").
SHAPE_ATTR_OPS = PLACEHOLDER_OPS | frozenset({"PlaceholderWithDefault"})
# Sources that need a feed (or a running input pipeline) at run time: a cut must not keep one unfed.
UNFED_SOURCE_OPS = PLACEHOLDER_OPS | frozenset({
    "IteratorGetNext", "IteratorGetNextSync", "IteratorGetNextAsOptional", "QueueDequeueV2",
    "QueueDequeueManyV2", "QueueDequeueUpToV2", "QueueDequeue", "QueueDequeueMany",
    "QueueDequeueUpTo", "ReaderReadV2", "ReaderRead", "ReaderReadUpToV2",
})

# Ops with a shape operand a constant can fix, and so pin a batch: op -> (shape operand, data operand or None).
SHAPE_OPERANDS = {
    "Reshape": (1, 0), "Slice": (2, 0), "BroadcastTo": (1, 0), "Tile": (1, 0), "Fill": (0, None),
    "RandomUniform": (0, None), "RandomStandardNormal": (0, None), "TruncatedNormal": (0, None),
    "RandomUniformInt": (0, None),
}
# Ops that join their inputs row by row, where one row does not broadcast against a batch.
CONCAT_OPS = frozenset({"ConcatV2", "Concat", "Pack", "ParallelConcat"})
# Ops whose output is their first input, value and shape.
PASS_THROUGH_OPS = frozenset({"Identity", "StopGradient", "Snapshot", "PreventGradient", "CheckNumerics",
                              "EnsureShape"})

# TF1 control flow (tf.cond, tf.while_loop), each op with its ref-typed twin.
SWITCH_OPS = frozenset({"Switch", "RefSwitch"})
MERGE_OPS = frozenset({"Merge", "RefMerge"})
ENTER_OPS = frozenset({"Enter", "RefEnter"})  # into a while frame
EXIT_OPS = frozenset({"Exit", "RefExit"})  # out of a while frame
NEXT_ITERATION_OPS = frozenset({"NextIteration", "RefNextIteration"})  # a loop's back edge
CONTROL_FLOW_OPS = SWITCH_OPS | MERGE_OPS | ENTER_OPS | EXIT_OPS | NEXT_ITERATION_OPS

# Control flow on ref tensors, and its value-typed twin: freezing turns the first into the second.
REF_FLOW = {"RefSwitch": "Switch", "RefEnter": "Enter", "RefExit": "Exit", "RefMerge": "Merge",
            "RefIdentity": "Identity", "RefNextIteration": "NextIteration", "RefSelect": "Select"}
# Ops that read a resource variable through its handle; freezing replaces each with the value.
HANDLE_READS = frozenset({"ReadVariableOp", "ResourceGather", "VarIsInitializedOp"})
# Ops that pass a variable's value (or handle) along unchanged.
READS = ("Identity", "ReadVariableOp")


def updates_state(op: str) -> bool:
    """Whether ``op`` writes into a variable (assign, scatter, optimizer update), ref or resource.

    A frozen graph has no variables left to write, so such an op cannot be kept.
    """
    return op.startswith(STATE_UPDATE_PREFIXES) and op not in PURE_SCATTER_OPS


def side_effect(op: str, path_fed: bool = True) -> str | None:
    """What running ``op`` does besides computing its outputs, or None: what a served signature must not do.

    ``path_fed``: for a restore op, whether its checkpoint path comes from a feed (a path a client chooses)
    rather than a constant.
    """
    if op in FILE_WRITE_OPS:
        return "writes files on the server"
    if op in FILE_READ_OPS:
        return "reads files on the server"
    if op in RESTORE_OPS and path_fed:
        return "reads a checkpoint from a path given at run time"
    if updates_state(op):
        return "updates variables"
    if op in STATE_PUSH_OPS:
        return "pushes onto a queue, stack or table"
    return None


def is_assign(op: str) -> bool:
    """Whether ``op`` is an assignment to a variable (whole value or in-place arithmetic)."""
    return op in ASSIGN_OPS
