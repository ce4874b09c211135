package gguf

import "slices"

// File returns the file the Builder would write, as Parse would read it
// back, without encoding or copying any tensor data: each TensorInfo.Data
// is the slice given to AddTensor. Version, KVs (values in their canonical
// form), Alignment, DataOffset and the tensors' Offset and Size are those of
// the written file.
//
// It lets a model held in another format (e.g. safetensors) be presented to
// code that reads *File, with zero copies. The returned File shares the
// Builder's tensor data, which must stay unchanged while the File is used;
// its Close is a no-op, so whoever owns that data releases it.
func (b *Builder) File() *File {
	align := b.alignment()
	f := &File{
		Version:     b.version,
		KVs:         slices.Clone(b.kvs),
		Tensors:     make([]TensorInfo, len(b.tensors)),
		Alignment:   align,
		kvIndex:     make(map[string]int, len(b.kvs)),
		tensorIndex: make(map[string]int, len(b.tensors)),
	}
	for i, kv := range f.KVs {
		f.kvIndex[kv.Key] = i
	}
	// The header's length, to place the data section where WriteTo puts it.
	n := uint64(len(Magic) + 4 + 8 + 8)
	for _, kv := range b.kvs {
		n += 8 + uint64(len(kv.Key)) + 4 + uint64(len(appendValue(nil, kv.Type, kv.Value)))
	}
	offset := uint64(0)
	for i, t := range b.tensors {
		n += 8 + uint64(len(t.Name)) + 4 + 8*uint64(len(t.Dims)) + 4 + 8
		ti := t
		ti.Dims = slices.Clone(t.Dims)
		ti.Offset = offset
		ti.Data = t.Data[:len(t.Data):len(t.Data)]
		f.Tensors[i] = ti
		f.tensorIndex[t.Name] = i
		offset += alignUp(t.Size, align)
	}
	f.DataOffset = alignUp(n, align)
	return f
}
