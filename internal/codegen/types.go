package codegen

import (
	"fmt"
	"go/ast"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// typeCode prints a spec type expression with jennifer, qualifying every
// import path through jen.Qual so that the file's imports follow.
func typeCode(t *spec.Type) jen.Code {
	return exprCode(t.Expr)
}

func exprCode(e ast.Expr) *jen.Statement {
	switch e := e.(type) {
	case *ast.Ident:
		return jen.Id(e.Name)
	case *ast.SelectorExpr: // spec.Type keeps the import path in X
		return jen.Qual(e.X.(*ast.Ident).Name, e.Sel.Name)
	case *ast.StarExpr:
		return jen.Op("*").Add(exprCode(e.X))
	case *ast.ParenExpr:
		return jen.Parens(exprCode(e.X))
	case *ast.ArrayType:
		if e.Len == nil {
			return jen.Index().Add(exprCode(e.Elt))
		}
		return jen.Index(jen.Op(e.Len.(*ast.BasicLit).Value)).Add(exprCode(e.Elt))
	case *ast.MapType:
		return jen.Map(exprCode(e.Key)).Add(exprCode(e.Value))
	case *ast.ChanType:
		switch e.Dir {
		case ast.SEND:
			return jen.Chan().Op("<-").Add(exprCode(e.Value))
		case ast.RECV:
			return jen.Op("<-").Chan().Add(exprCode(e.Value))
		}
		return jen.Chan().Add(exprCode(e.Value))
	case *ast.Ellipsis:
		return jen.Op("...").Add(exprCode(e.Elt))
	case *ast.FuncType:
		return signature(jen.Func(), e)
	case *ast.StructType:
		return jen.Struct(fieldCodes(e.Fields)...)
	case *ast.InterfaceType:
		return jen.Interface(methodCodes(e.Methods)...)
	case *ast.IndexExpr:
		return exprCode(e.X).Types(exprCode(e.Index))
	case *ast.IndexListExpr:
		args := make([]jen.Code, len(e.Indices))
		for i, x := range e.Indices {
			args[i] = exprCode(x)
		}
		return exprCode(e.X).Types(args...)
	}
	// spec.ParseType admits nothing else.
	panic(fmt.Sprintf("codegen: unexpected type node %T", e))
}

// fieldCodes prints the fields of a parameter list or struct.
func fieldCodes(fl *ast.FieldList) []jen.Code {
	if fl == nil {
		return nil
	}
	var codes []jen.Code
	for _, f := range fl.List {
		s := jen.Empty()
		if len(f.Names) > 0 {
			names := make([]jen.Code, len(f.Names))
			for i, n := range f.Names {
				names[i] = jen.Id(n.Name)
			}
			s = jen.List(names...)
		}
		s.Add(exprCode(f.Type))
		if f.Tag != nil {
			s.Op(f.Tag.Value)
		}
		codes = append(codes, s)
	}
	return codes
}

// methodCodes prints the methods and embedded types of an interface.
func methodCodes(fl *ast.FieldList) []jen.Code {
	var codes []jen.Code
	for _, f := range fl.List {
		ft, ok := f.Type.(*ast.FuncType)
		if !ok || len(f.Names) == 0 {
			codes = append(codes, exprCode(f.Type))
			continue
		}
		codes = append(codes, signature(jen.Id(f.Names[0].Name), ft))
	}
	return codes
}

// signature appends the parameters and results of ft to s.
func signature(s *jen.Statement, ft *ast.FuncType) *jen.Statement {
	s.Params(fieldCodes(ft.Params)...)
	res := fieldCodes(ft.Results)
	switch {
	case len(res) == 1 && len(ft.Results.List[0].Names) == 0:
		s.Add(res[0])
	case len(res) > 0:
		s.Params(res...)
	}
	return s
}
